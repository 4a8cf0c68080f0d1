"""Batch inference as a user runs it: records, failures, bad input, a killed run resumed, a
2-process accelerate run, and score / report on the results. random:tiny, small images."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from echo_cxr.cli import main
from echo_cxr.evaluation.infer import InferConfig, run_inference
from echo_cxr.evaluation.results import read_records, record_key
from tests.conftest import make_image

SAMPLES = 16
SETTINGS = ["--max-new-tokens", "64", "--block-length", "4", "--steps", "4", "--ignore-eos", "--no-progress",
            "--quantize", "none"]  # float32: int8 rows depend on their batch, these runs are compared exactly
DECODING = {"max_new_tokens": 64, "block_length": 4, "steps": 4, "ignore_eos": True}
KILL_POLL_S = 0.01
PROCESS_TIMEOUT_S = 240


def _entry(index, images):
    zh = index % 3 == 2
    truth = {"findings": "心影不大。" if zh else "Heart normal.", "impression": "未见异常。" if zh else "No acute disease."}
    return {"sample_id": f"s{index:02d}", "images": images, "ground_truth": truth}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    (folder / "img").mkdir()
    entries = []
    for index in range(SAMPLES):
        path = folder / "img" / f"{index}.png"
        Image.fromarray(make_image(index, 28 + index % 3, 32)).save(path)
        entries.append(_entry(index, [f"img/{index}.png"] + ([f"img/{index - 1}.png"] if index % 4 == 1 else [])))
    data = folder / "test.json"
    data.write_text(json.dumps(entries, ensure_ascii=False), "utf-8")
    return data


@pytest.fixture(scope="module")
def reference(dataset, tmp_path_factory):
    """An uninterrupted single-process run (batch size 4), records by key."""
    out = tmp_path_factory.mktemp("ref") / "results.jsonl"
    run_inference(InferConfig(data=(str(dataset),), out=str(out), batch_size=4, decoding=DECODING))
    return {record_key(r): r for r in read_records(out)}


def same_records(records, reference):
    strip = lambda r: {k: v for k, v in r.items() if k != "stats"}  # noqa: E731  timings differ
    assert {record_key(r) for r in records} == set(reference)
    for record in records:
        assert strip(record) == strip(reference[record_key(record)])


def run_cli(capsys, args):
    with pytest.raises(SystemExit) as done:
        main(args)
    captured = capsys.readouterr()
    return done.value.code, captured.out, captured.err


def env():
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}


def test_records_failures_and_a_summary(capsys, tmp_path):
    Image.fromarray(make_image(1, 30, 30)).save(tmp_path / "ok.png")
    (tmp_path / "broken.png").write_bytes(b"not an image")
    entries = [_entry(0, ["ok.png"]), _entry(1, ["missing.png"]), _entry(2, ["ok.png", "broken.png"]),
               {**_entry(3, ["ok.png"]), "labels": [{"finding": "pneumothorax"}]}]
    data = tmp_path / "d.json"
    data.write_text(json.dumps(entries, ensure_ascii=False), "utf-8")
    out = tmp_path / "r.jsonl"
    code, _, err = run_cli(capsys, ["infer", "--data", str(data), "--out", str(out), "--batch-size", "4",
                                    "--max-new-tokens", "8"])
    assert code is None or code == 0, err
    records = read_records(out)
    assert [r["sample_id"] for r in records] == ["s00", "s01", "s02", "s03"]
    ok, missing, broken, labelled = records
    assert ok["error"] is None and ok["report"] is not None and ok["stats"]["new_tokens"] <= 8
    assert ok["reference"]["text"] == "Findings: Heart normal. Impression: No acute disease.."
    assert records[2]["language"] == "zh" and ok["language"] == "en"
    assert missing["error"].startswith("image not found") and missing["report"] is None
    assert "cannot read image" in broken["error"]
    assert labelled["labels"] == [{"finding": "pneumothorax"}] and labelled["error"] is None
    assert len({r["run_id"] for r in records}) == 1 and all(r["run_total"] == 4 for r in records)
    assert "2 samples failed" in err and "s01" in err and "s02" in err


@pytest.mark.parametrize("args, message", [
    (["--samples", "2"], "need --temperature > 0"),
    (["--decoder", "magic"], "unknown decoder"),
    (["--batch-size", "0"], "batch size must be at least 1"),
    (["--steps", "9", "--block-length", "4"], "steps must be between"),
])
def test_bad_settings_exit_2(capsys, tmp_path, dataset, args, message):
    code, _, err = run_cli(capsys, ["infer", "--data", str(dataset), "--out", str(tmp_path / "r.jsonl"), *args])
    assert code == 2 and message in err and "Traceback" not in err


def test_bad_data_and_foreign_results(capsys, tmp_path, dataset):
    bad = tmp_path / "bad.json"
    bad.write_text('[{"sample_id": "a", "images": ["x.png"], ', "utf-8")
    code, _, err = run_cli(capsys, ["infer", "--data", str(dataset), str(bad), "--out", str(tmp_path / "r.jsonl")])
    assert code == 2 and "bad.json: malformed JSON" in err
    out = tmp_path / "r.jsonl"
    out.write_text(json.dumps({"run_id": "someone-else", "sample_id": "s00", "sample_index": 0,
                               "source_digest": "x"}) + "\n", "utf-8")
    code, _, err = run_cli(capsys, ["infer", "--data", str(dataset), "--out", str(out), "--max-new-tokens", "4"])
    assert code == 2 and "already exists; pass --resume" in err
    code, _, err = run_cli(capsys, ["infer", "--data", str(dataset), "--out", str(out), "--resume",
                                    "--max-new-tokens", "4"])
    assert code == 2 and "holds results of another run" in err


def test_killed_run_resumes_with_every_sample_exactly_once(dataset, reference, tmp_path):
    out = tmp_path / "results.jsonl"
    command = [sys.executable, "-m", "echo_cxr.cli", "infer", "--data", str(dataset), "--out", str(out),
               "--batch-size", "2", *SETTINGS]
    process = subprocess.Popen(command, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + PROCESS_TIMEOUT_S
    while not (out.exists() and out.read_bytes().count(b"\n") >= 2) and time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode()
        time.sleep(KILL_POLL_S)
    still_running = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait()
    written = out.read_bytes().count(b"\n")
    assert still_running and process.returncode == -signal.SIGKILL and 2 <= written < SAMPLES
    with open(out, "ab") as handle:  # a record cut short, as a kill during a write leaves it
        handle.write(b'{"run_id": "')
    resumed = subprocess.run([*command, "--resume"], env=env(), capture_output=True, text=True,
                             timeout=PROCESS_TIMEOUT_S)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{written} already done" in resumed.stderr
    records = read_records(out)
    assert len(records) == SAMPLES == len({record_key(r) for r in records})  # each sample exactly once
    same_records(records, reference)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_process_accelerate_run_equals_one_process(dataset, reference, tmp_path):
    out = tmp_path / "results.jsonl"
    accelerate = str(Path(sys.executable).parent / "accelerate")
    # `--cpu --num_processes 2` starts a single process in accelerate 1.15 (multi-CPU needs an MPI
    # hostfile); `--multi_gpu` launches 2 processes through torchrun, which talk over gloo on CPU.
    command = [accelerate, "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
               "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", str(_free_port()),
               "-m", "echo_cxr.cli", "infer", "--data", str(dataset), "--out", str(out), "--batch-size", "3",
               *SETTINGS]
    done = subprocess.run(command, env=env(), capture_output=True, text=True, timeout=PROCESS_TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    assert f"{SAMPLES} records written" in done.stderr
    assert not list(tmp_path.glob("results.jsonl.shard-*"))  # shards merged and removed
    records = read_records(out)
    assert [record_key(r) for r in records] == list(reference)  # global order, each once
    same_records(records, reference)


def test_score_and_report_commands(capsys, tmp_path, dataset, reference):
    results = tmp_path / "r.jsonl"
    results.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in reference.values()), "utf-8")
    for name in ("base", "other"):
        code, out, err = run_cli(capsys, ["score", "--results", str(results), "--metrics", "rouge,release_rouge",
                                          "--out", str(tmp_path / f"{name}.json"), "--name", name])
        assert code is None or code == 0, err
    assert "| rouge_1 |" in out and (tmp_path / "base.samples.jsonl").exists() and (tmp_path / "base.md").exists()
    code, out, err = run_cli(capsys, ["report", str(tmp_path / "base.json"), str(tmp_path / "other.json"),
                                      "--baseline", "base", "--columns", "rouge_l,release_rouge_l,tpf"])
    assert code is None or code == 0, err
    assert "| base (baseline) |" in out and "(+0.0%)" in out
    code, _, err = run_cli(capsys, ["score", "--results", str(results), "--metrics", "bleurt", "--out",
                                    str(tmp_path / "x.json")])
    assert code == 2 and "unknown metric 'bleurt'" in err
    code, _, err = run_cli(capsys, ["report", str(tmp_path / "base.json"), "--baseline", "nobody"])
    assert code == 2 and "baseline 'nobody' is not one of the runs" in err


def test_several_draws_per_input_use_successive_seeds(dataset, tmp_path):
    from echo_cxr.decoding import DecodeConfig, generate
    from echo_cxr.evaluation.data import read_dataset
    from echo_cxr.evaluation.infer import _study
    from echo_cxr.model import load

    decoding = {"max_new_tokens": 12, "temperature": 1.0, "top_k": 0}
    summary = run_inference(InferConfig(data=(str(dataset),), out=str(tmp_path / "r.jsonl"), batch_size=3,
                                        samples=2, decoding=decoding, seed=5))
    records = read_records(tmp_path / "r.jsonl")
    assert summary.total == len(records) == 2 * SAMPLES
    assert sorted({r["sample_index"] for r in records}) == [0, 1]
    first = read_dataset(dataset)[0]
    bundle = load("random:tiny", seed=5)
    config = DecodeConfig(block_length=bundle.defaults.block_length, steps=bundle.defaults.steps, seed=5, **decoding)
    for draw in (0, 1):  # draw k is the one-by-one decode with seed 5 + k
        expected = generate(bundle, [_study((first, draw), config)], config)[0].token_ids
        record = next(r for r in records if r["sample_id"] == first.sample_id and r["sample_index"] == draw)
        assert record["token_ids"] == expected and record["decoding"]["seed"] == 5
