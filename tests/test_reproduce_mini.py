"""The miniature reproduction: every stage of scripts/reproduce.sh (data, vision pretraining, AR,
RAD x2, DCD x2, baselines, ablations, twelve evaluations, the results document) in minutes, so that
the full run cannot rot. scripts/reproduce.sh only activates the venv and runs this module."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from echo_cxr.reproduce.plan import RUNS, VARIANTS

ROOT = Path(__file__).resolve().parents[1]


def test_mini_reproduction_end_to_end(tmp_path):
    work, docs = tmp_path / "work", tmp_path / "docs"
    command = [sys.executable, "-m", "echo_cxr.reproduce", "--profile", str(ROOT / "configs/reproduce/mini.yaml"),
               "--workdir", str(work), "--docs", str(docs)]
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    text = (docs / "phantom.md").read_text()
    for variant in VARIANTS:
        assert f"| {variant.label} |" in text
    assert "## Targets" in text and "## Wall-clock per stage" in text and (docs / "phantom_tpf_vs_f1.png").is_file()
    timings = json.loads((work / "timings.json").read_text())
    assert {f"train {run.name}" for run in RUNS} <= set(timings)
    assert "TPF/blk 8.00" in text  # one-step block 8: eight canvas positions per forward
    for section in ("## Stage 0: what the vision tower alone reads", "## Recall per finding", "## Second test set"):
        assert section in text
    assert "| Stage-0 tower (probe) [test2] |" in text and "repeat %" in text
    assert (work / "eval" / "stage0_probe" / "test2" / "scores.json").is_file()
    assert all((work / "eval" / v.slug / "test2" / "scores.json").is_file() for v in VARIANTS)
    # a second run finds every stage done and only re-renders
    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert again.returncode == 0 and "echo-cxr" not in again.stderr
    assert json.loads((work / "timings.json").read_text()) == timings


def test_committed_runs_are_adopted_once_and_checked(tmp_path):
    from echo_cxr.errors import EchoError
    from echo_cxr.reproduce.plan import Profile
    from echo_cxr.reproduce.runner import Reproduction

    run = Reproduction(Profile.load(ROOT / "configs/reproduce/mini.yaml"), tmp_path / "work")
    tower = tmp_path / "tower"
    (tower / "model").mkdir(parents=True)
    with pytest.raises(EchoError, match="label_head.pt"):
        run.adopt_tower(tower)
    (tower / "model" / "config.json").write_text("{}")
    (tower / "label_head.pt").write_bytes(b"x")
    run.adopt_tower(tower)
    assert (run.run_dir("vision") / "model" / "config.json").is_file()
    assert "adopted the committed tower" in (tmp_path / "work" / "commands.log").read_text()
    with pytest.raises(EchoError, match="unknown run"):
        run.train_with_dependencies("nonsense")
    with pytest.raises(EchoError, match="unknown run"):
        run.adopt("nonsense", tower)
    with pytest.raises(EchoError, match="not a finished run"):
        run.adopt("ar", tmp_path)
    run.adopt("ar", tower)
    assert (run.run_dir("ar") / "model" / "config.json").is_file()
    assert "[train ar] adopted a committed run" in (tmp_path / "work" / "commands.log").read_text()


def test_unknown_until_fails_before_any_data_is_made(tmp_path, monkeypatch, capsys):
    from echo_cxr.reproduce.__main__ import main

    monkeypatch.setattr(sys, "argv", ["reproduce", "--profile", str(ROOT / "configs/reproduce/mini.yaml"),
                                      "--workdir", str(tmp_path / "w"), "--until", "no_such_run"])
    with pytest.raises(SystemExit) as stop:
        main()
    assert stop.value.code == 2
    assert "unknown run 'no_such_run'" in capsys.readouterr().err
    assert not (tmp_path / "w" / "data").exists()
