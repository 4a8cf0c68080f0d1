"""A ``data normalize`` process killed with SIGKILL mid-run and started again: every sample ends in
the output exactly once, the cache holds every report exactly once, and reports finished before
the kill are not asked again."""

import json
import os
import signal
import subprocess
import sys
import time

from echo_cxr.data.normalize.loopback import LoopbackLLM
from tests.data.normalize_data import many_reports, read_jsonl, write_samples

COUNT = 40
KILL_AFTER = 10  # cached reports before the kill
DELAY_S = 0.1  # per answer: the run lasts a few seconds, so the kill lands mid-run
DEADLINE_S = 120


def command(data, out, url):
    return [sys.executable, "-m", "echo_cxr.cli", "data", "normalize", "--data", str(data), "--out", str(out),
            "--model", "loopback", "--endpoint", url, "--concurrency", "3", "--quiet"]


def cached_keys(path):
    if not path.exists():
        return []
    keys = []
    for line in path.read_bytes().splitlines(keepends=True):
        if line.endswith(b"\n"):
            keys.append(json.loads(line)["key"])
    return keys


def test_sigkill_mid_run_then_resume(tmp_path):
    llm = LoopbackLLM(delay_s=DELAY_S)
    url = llm.start()
    reports = many_reports(COUNT)
    data = write_samples(tmp_path / "in.json", reports)
    out, cache = tmp_path / "norm" / "train.json", tmp_path / "norm" / "train.cache.jsonl"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen(command(data, out, url), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    start = time.monotonic()
    while len(cached_keys(cache)) < KILL_AFTER:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() - start < DEADLINE_S
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done_before = set(cached_keys(cache))
    asked_before = len(llm.requests)
    assert KILL_AFTER <= len(done_before) < COUNT and not out.exists()

    finished = subprocess.run(command(data, out, url), env=env, capture_output=True, text=True, timeout=DEADLINE_S)
    llm.stop()
    assert finished.returncode == 0, finished.stderr
    keys = cached_keys(cache)
    assert len(keys) == len(set(keys)) == COUNT  # nothing duplicated in the cache
    entries = json.loads(out.read_text())
    assert [e["sample_id"] for e in entries] == list(reports)  # nothing lost or duplicated in the output
    assert all(e["normalization"]["status"] == "accepted" for e in entries)
    audit = read_jsonl(out.with_name("train.audit.jsonl"))
    assert [row["sample_id"] for row in audit] == list(reports)
    assert {row["key"] for row in audit if row["cached"]} == done_before
    # after the restart only unfinished reports were asked (those in flight at the kill once more)
    by_key = {row["key"]: reports[row["sample_id"]][0] for row in audit}
    asked_after = [findings for findings, _ in llm.requests[asked_before:]]
    assert not {by_key[key] for key in done_before} & set(asked_after)
    assert len(asked_after) == COUNT - len(done_before)
