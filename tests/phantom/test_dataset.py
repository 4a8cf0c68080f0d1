"""Data set writer: layout, schema, splits, determinism, overwrite rules, reader."""

from __future__ import annotations

import json

import pytest

from echo_cxr.errors import EchoError
from echo_cxr.phantom import PhantomConfig, label_report, load_dataset, write_dataset
from echo_cxr.phantom.dataset import split_counts

CONFIG = PhantomConfig(image_size=128, lateral_prob=0.5)


def _files(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_layout_schema_and_manifest(tmp_path):
    out = tmp_path / "ds"
    manifest = write_dataset(out, 20, seed=9, lang="both", config=CONFIG)
    assert manifest["splits"]["train"]["studies"] == 16
    assert manifest["counts"]["studies"] == 20 and manifest["counts"]["samples"] == 40
    assert json.loads((out / "manifest.json").read_text())["generator_version"]
    samples = json.loads((out / "train" / "train.json").read_text(encoding="utf-8"))
    assert len(samples) == 32
    en, zh = samples[0], samples[1]
    assert en["study_id"] == zh["study_id"] and en["images"] == zh["images"]
    assert en["sample_id"] != zh["sample_id"] and (en["language"], zh["language"]) == ("en", "zh")
    for sample in samples:
        assert set(sample) >= {"sample_id", "images", "ground_truth", "labels", "language"}
        assert set(sample["ground_truth"]) == {"findings", "impression"}
        for rel in sample["images"]:
            assert (out / "train" / rel).is_file() and not rel.startswith("/")
        truth = sample["ground_truth"]
        text = f"{truth['findings']}\n{truth['impression']}"
        assert label_report(text) == sample["labels"]
    loaded = load_dataset(out / "val" / "val.json", lang="zh")
    assert len(loaded) == 2 and all(s["language"] == "zh" for s in loaded)
    assert all(s["images"][0].startswith(str(tmp_path)) for s in loaded)


def test_same_seed_gives_byte_identical_files(tmp_path):
    a = write_dataset(tmp_path / "a", 8, seed=4, lang="en", config=CONFIG, workers=1)
    b = write_dataset(tmp_path / "b", 8, seed=4, lang="en", config=CONFIG, workers=2)
    assert a == b
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    write_dataset(tmp_path / "c", 8, seed=5, lang="en", config=CONFIG)
    assert _files(tmp_path / "a") != _files(tmp_path / "c")


def test_splits_are_disjoint_and_sized(tmp_path):
    write_dataset(tmp_path / "d", 30, seed=1, lang="en", config=CONFIG,
                  splits={"train": 0.5, "val": 0.25, "test": 0.25})
    ids, texts = {}, {}
    for split in ("train", "val", "test"):
        samples = load_dataset(tmp_path / "d" / split / f"{split}.json")
        ids[split] = {s["study_id"] for s in samples}
        texts[split] = {s["ground_truth"]["findings"] + str(s["labels"]) for s in samples}
    assert [len(ids[s]) for s in ("train", "val", "test")] == [15, 8, 7]
    assert not ids["train"] & ids["val"] and not ids["val"] & ids["test"]
    counts = split_counts(10, {"train": 0.8, "val": 0.1, "test": 0.1})
    assert counts == {"train": 8, "val": 1, "test": 1}
    assert sum(split_counts(7, {"a": 1, "b": 1, "c": 1}).values()) == 7


def test_single_split_and_dicom(tmp_path):
    config = PhantomConfig(image_size=128, image_format="dicom", monochrome=1, lateral_prob=0.0)
    write_dataset(tmp_path / "e", 3, seed=2, config=config, splits={"bench": 1.0})
    samples = load_dataset(tmp_path / "e" / "bench" / "bench.json")
    assert len(samples) == 3 and samples[0]["images"][0].endswith("_frontal.dcm")


def test_refuses_to_overwrite_and_rejects_bad_input(tmp_path):
    out = tmp_path / "f"
    write_dataset(out, 2, config=CONFIG)
    with pytest.raises(EchoError, match="--overwrite"):
        write_dataset(out, 2, config=CONFIG)
    write_dataset(out, 3, config=CONFIG, overwrite=True)
    assert json.loads((out / "manifest.json").read_text())["n_studies"] == 3
    foreign = tmp_path / "g"
    foreign.mkdir()
    (foreign / "thesis.txt").write_text("keep me")
    with pytest.raises(EchoError, match="refusing"):
        write_dataset(foreign, 2, config=CONFIG, overwrite=True)
    assert (foreign / "thesis.txt").read_text() == "keep me"
    for kwargs, message in (({"n": 0}, "positive"), ({"n": 2, "lang": "fr"}, "unknown language"),
                            ({"n": 2, "splits": {"train": 0}}, "positive fraction")):
        with pytest.raises(EchoError, match=message):
            write_dataset(tmp_path / "h", config=CONFIG, **kwargs)


def test_unwritable_output_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(EchoError, match="not a folder|cannot write"):
        write_dataset(blocker, 2, config=CONFIG)
    with pytest.raises(EchoError, match="cannot write"):
        write_dataset(blocker / "sub", 2, config=CONFIG)


def test_load_dataset_reads_release_format(tmp_path):
    (tmp_path / "x").mkdir()
    release = [{"sample_id": "c27", "images": ["x/view1_frontal.png"],
                "ground_truth": {"findings": "双肺野清晰。", "impression": "心肺未见明显异常。"}}]
    path = tmp_path / "test.json"
    path.write_text(json.dumps(release, ensure_ascii=False), encoding="utf-8")
    (sample,) = load_dataset(path)
    assert sample["language"] == "zh"
    assert sample["images"][0] == str(tmp_path / "x/view1_frontal.png")
    path.write_text("{not json")
    with pytest.raises(EchoError, match="cannot read"):
        load_dataset(path)
