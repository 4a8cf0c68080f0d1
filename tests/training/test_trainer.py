"""The trainer end to end on a toy data set (tiny model from scratch, CPU)."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from echo_cxr.cli import main
from echo_cxr.errors import EchoError
from echo_cxr.training.config import load_config
from tests.training.toy_data import TINY_SHAPE, write_toy_data


def metrics(folder):
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    return {row["step"]: row for row in rows}  # a resumed run may repeat steps: the last one counts


def run_cli(args):
    with pytest.raises(SystemExit) as done:
        main(args)
    return done.value.code


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return write_toy_data(tmp_path_factory.mktemp("toy"))


def test_short_rad_run_lowers_val_loss_and_raises_tpf(toy, tmp_path):
    train, val = toy
    out = tmp_path / "rad"
    code = run_cli(["train", "rad", f"train_data={train}", f"val_data={val}", f"output_dir={out}", "max_steps=300",
                    "batch_size=4", "learning_rate=3e-3", "warmup_ratio=0.05", "eval_every=100", "log_every=100",
                    "block_length=4", "freeze_vision=false", "val_max_new_tokens=40", *TINY_SHAPE, "--quiet"])
    assert code == 0
    rows = metrics(out)
    first, last = rows[100], rows[300]
    assert last["val_loss"] < 0.7 * first["val_loss"]
    assert last["val_tpf"] > first["val_tpf"]
    saved = json.loads((out / "model" / "config.json").read_text())["echo"]
    assert saved["prediction"] == "masked" and saved["decoding"]["block_length"] == 4
    assert run_cli(["train", "rad", f"train_data={train}", f"output_dir={out}", *TINY_SHAPE, "--quiet"]) == 2


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["learning_rate=0"], "learning_rate must be positive"),
        (["bogus=1"], "unknown key"),
        (["block_length=x"], "cannot read"),
        (["train_data="], "train_data"),
    ],
)
def test_bad_configs_fail_before_training(toy, tmp_path, overrides, message):
    train, _ = toy
    with pytest.raises(EchoError, match=message):
        load_config(None, [f"train_data={train}", f"output_dir={tmp_path}", *overrides], "rad")


def test_distillation_needs_a_matching_teacher(toy, tmp_path):
    train, _ = toy
    with pytest.raises(EchoError, match="needs a teacher"):
        load_config(None, [f"train_data={train}", f"output_dir={tmp_path}"], "dcd")


def test_missing_images_and_empty_data_fail_before_training(tmp_path):
    from echo_cxr.training.trainer import Trainer

    train, _ = write_toy_data(tmp_path / "data", count=4)
    (tmp_path / "data" / "img2.png").unlink()
    config = load_config(None, [f"train_data={train}", f"output_dir={tmp_path / 'out'}", *TINY_SHAPE], "ar")
    with pytest.raises(EchoError, match="missing"):
        Trainer(config, progress=False)
    (tmp_path / "empty.json").write_text("[]")
    config = load_config(None, [f"train_data={tmp_path / 'empty.json'}", f"output_dir={tmp_path / 'o2'}"], "ar")
    with pytest.raises(EchoError, match="no samples"):
        Trainer(config, progress=False)


def launch(args, env):
    """``accelerate launch`` with two CPU processes (gloo): the multi-process launcher, told to use the CPU."""
    command = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
               "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
               "-m", "echo_cxr.cli", "train", "rad", *args]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True, text=True)


def test_two_process_run_killed_and_resumed_matches_uninterrupted(toy, tmp_path):
    train, _ = toy
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", ACCELERATE_USE_CPU="1")
    common = [f"train_data={train}", "batch_size=2", "max_steps=12", "save_every=3", "log_every=1", "eval_every=0",
              "learning_rate=3e-3", "block_length=4", *TINY_SHAPE, "--quiet"]
    whole = launch([*common, f"output_dir={tmp_path / 'whole'}"], env)
    assert whole.wait(timeout=300) == 0, whole.stdout.read()

    cut = tmp_path / "cut"
    killed = launch([*common, f"output_dir={cut}"], env)
    deadline = time.time() + 300
    while time.time() < deadline and killed.poll() is None:
        log = cut / "metrics.jsonl"
        if log.exists() and max(metrics(cut), default=0) >= 7:
            break
        time.sleep(0.2)
    assert killed.poll() is None, "the run finished before it could be killed"
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait()
    resumed = launch([*common, f"output_dir={cut}", "--resume"], env)
    assert resumed.wait(timeout=300) == 0, resumed.stdout.read()
    expected, got = metrics(tmp_path / "whole"), metrics(cut)
    assert sorted(got) == sorted(expected) == list(range(1, 13))
    assert {row["processes"] for row in got.values()} == {2}
    for step in expected:
        assert got[step]["loss"] == pytest.approx(expected[step]["loss"], rel=1e-5, abs=1e-7)
