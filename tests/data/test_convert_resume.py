"""A conversion interrupted at any point resumes to the same files as an uninterrupted run."""

import json

import pytest

from echo_cxr.data import convert as convert_module
from echo_cxr.data.lookalike import build_lookalike
from echo_cxr.errors import EchoError
from tests.data.helpers import run_convert

FILES = ("train.json", "val.json", "test.json", "dropped.jsonl")


class Crash(Exception):
    pass


def snapshot(out):
    """The manifest (without its timing) and every output file, image paths made absolute (the
    reference run writes to another folder)."""
    manifest = json.loads((out / "manifest.json").read_text())
    manifest.pop("seconds")
    files = {name: (out / name).read_text() for name in FILES if (out / name).exists()}
    for name, text in files.items():
        if name.endswith(".json"):
            entries = json.loads(text)
            for entry in entries:
                entry["images"] = [str((out / path).resolve()) for path in entry["images"]]
            files[name] = entries
    return manifest, files


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    root = tmp_path_factory.mktemp("mimic")
    build_lookalike("mimic-cxr", root / "raw")
    run_convert("mimic-cxr", root / "raw", root / "ref", checkpoint_every=3)
    return root / "raw", snapshot(root / "ref")


@pytest.mark.parametrize("crash_after", [1, 3, 4, 8, 16])
def test_crash_then_resume_gives_the_uninterrupted_output(tmp_path, monkeypatch, reference, crash_after):
    raw, (manifest, files) = reference
    real, calls = convert_module._record, []

    def crashing(*args):
        calls.append(1)
        if len(calls) > crash_after:  # the process dies: records written since the last checkpoint are torn
            writer = args[3]
            for handle in writer.handles.values():
                handle.write(b'{"half a li')
                handle.flush()
            raise Crash
        return real(*args)

    monkeypatch.setattr(convert_module, "_record", crashing)
    with pytest.raises(Crash):
        run_convert("mimic-cxr", raw, tmp_path / "out", checkpoint_every=3)
    assert not (tmp_path / "out" / "manifest.json").exists()
    with pytest.raises(EchoError, match="other settings"):
        run_convert("mimic-cxr", raw, tmp_path / "out", checkpoint_every=3, max_images=1)
    monkeypatch.setattr(convert_module, "_record", real)
    run_convert("mimic-cxr", raw, tmp_path / "out", checkpoint_every=3)
    assert snapshot(tmp_path / "out") == (manifest, files)
    assert not (tmp_path / "out" / ".convert-work").exists()


def test_overwrite_replaces_a_finished_conversion(tmp_path, reference):
    raw, (manifest, files) = reference
    run_convert("mimic-cxr", raw, tmp_path / "out", splits=("test",))
    assert not (tmp_path / "out" / "train.json").exists()
    run_convert("mimic-cxr", raw, tmp_path / "out", overwrite=True, checkpoint_every=3)
    assert snapshot(tmp_path / "out") == (manifest, files)
