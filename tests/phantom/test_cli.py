"""``echo-cxr phantom``: a small run, and bad input -> one-line error, exit code 2."""

from __future__ import annotations

import json

import pytest

from echo_cxr.cli import main


def _run(args: list[str], capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as done:
        main(["phantom", *args])
    return done.value.code, capsys.readouterr().err


def test_small_run_writes_a_data_set_and_contact_sheet(tmp_path, capsys):
    out, sheet = tmp_path / "ds", tmp_path / "sheet.png"
    code, _ = _run(["--out", str(out), "--n", "5", "--seed", "3", "--lang", "both",
                    "--image-size", "128", "--split", "test", "--contact-sheet", str(sheet),
                    "--prevalence", "pneumothorax=0.5", "--workers", "1"], capsys)
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["lang"] == "both" and manifest["splits"]["test"]["samples"] == 10
    assert manifest["config"]["prevalence"] == {"pneumothorax": 0.5}
    assert sheet.is_file() and sheet.stat().st_size > 1000


@pytest.mark.parametrize("args, message", [
    (["--n", "0"], "positive integer"),
    (["--n", "-3"], "positive integer"),
    (["--n", "2", "--lang", "fr"], "unknown language"),
    (["--n", "2", "--prevalence", "pneumonia=0.1"], "unknown finding 'pneumonia'"),
    (["--n", "2", "--prevalence", "pneumothorax"], "NAME=P"),
    (["--n", "2", "--bit-depth", "12"], "bit depth"),
    (["--n", "2", "--splits", "train=0.8,val"], "NAME=FRACTION"),
])
def test_bad_input_exits_2(tmp_path, capsys, args, message):
    code, err = _run(["--out", str(tmp_path / "x"), *args], capsys)
    assert code == 2 and message in err and err.count("\n") == 1


def test_unwritable_and_existing_output(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, err = _run(["--out", str(blocker / "sub"), "--n", "2"], capsys)
    assert code == 2 and "cannot write" in err
    out = tmp_path / "ds"
    assert _run(["--out", str(out), "--n", "1", "--image-size", "128"], capsys)[0] == 0
    code, err = _run(["--out", str(out), "--n", "1", "--image-size", "128"], capsys)
    assert code == 2 and "--overwrite" in err
    again = ["--out", str(out), "--n", "1", "--image-size", "128", "--overwrite"]
    assert _run(again, capsys)[0] == 0
