"""The load test library against an in-process service: bounded, loopback only, honest counts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from echo_cxr.apps.loadtest import LoadConfig, LoadResult, check_loopback, format_result, run_load
from echo_cxr.errors import EchoError

pytest.importorskip("fastapi", reason="fastapi is not installed (apps extra)")
ROOT = Path(__file__).resolve().parents[2]


def test_load_run_counts_requests_errors_and_batches(tiny, files):
    from echo_cxr.apps.server import ServiceConfig, ServiceThread

    config = ServiceConfig(port=0, max_batch_size=4, batch_window_ms=50)
    with ServiceThread(config, bundle=tiny) as service:
        result = run_load(LoadConfig(service.url, (files["frontal.png"],), requests=6, concurrency=3,
                                     options={"max_new_tokens": 8}))
        bad = run_load(LoadConfig(service.url, (files["frontal.png"],), requests=2, concurrency=2,
                                  options={"language": "fr"}))
    assert result.ok == 6 and not result.errors and result.batching["requests"] == 6
    assert result.new_tokens == 6 * 8 and 0 < result.percentile(50) <= result.percentile(95) <= result.percentile(99)
    assert result.batching["batches"] <= 6 and result.throughput > 0
    assert bad.ok == 0 and bad.errors == {"422": 2}
    text = format_result(result, "tiny")
    assert "6 ok, errors 0" in text and "p95" in text


def test_percentiles_are_nearest_rank():
    result = LoadResult(10, 1, 1.0, [float(i) for i in range(1, 101)], {}, 0, {})
    assert (result.percentile(50), result.percentile(95), result.percentile(99)) == (50.0, 95.0, 99.0)


@pytest.mark.parametrize("url", ["http://10.0.0.5:8000", "http://example.org", "http://192.168.1.2"])
def test_only_loopback_targets(url):
    with pytest.raises(EchoError, match="only targets loopback"):
        check_loopback(url)


def test_bounds(files):
    for url in ("http://127.0.0.1:1", "http://localhost:1", "http://[::1]:1"):
        check_loopback(url)
    with pytest.raises(EchoError, match="requests must be between 1 and 1000"):
        LoadConfig("http://127.0.0.1:1", (files["frontal.png"],), requests=5000)
    with pytest.raises(EchoError, match="concurrency must be between 1 and 64"):
        LoadConfig("http://127.0.0.1:1", (files["frontal.png"],), concurrency=0)


def test_script_refuses_a_remote_target():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "load_test.py"), "--url", "http://10.1.2.3:8000"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.strip().startswith("error: the load test only targets loopback")
