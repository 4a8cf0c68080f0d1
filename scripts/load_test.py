#!/usr/bin/env python
"""Load test of `echo-cxr serve` (loopback only, bounded): N requests at concurrency C.

    # against a running service
    python scripts/load_test.py --url http://127.0.0.1:8000 --requests 100 --concurrency 8
    # start the service in this process, once per max batch size, and compare
    python scripts/load_test.py --serve random:tiny --max-batch-sizes 1,8 --requests 100 --concurrency 8

Prints throughput, p50/p95/p99 latency, errors and batching counters (echo_cxr.apps.loadtest).
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import sys
from pathlib import Path
from typing import Optional

import typer

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_IMAGE = ROOT / "examples" / "phantom_frontal.png"
app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


def _machine() -> str:
    import torch

    return (f"{platform.machine()} {os.cpu_count()} CPUs, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads), python {platform.python_version()}")


def _served(spec: str, sizes: list[int], window_ms: float, concurrency: int):
    """Yield (max batch size, url) with the service running in this process for each size."""
    from echo_cxr.apps.batcher import DEFAULT_MAX_QUEUE
    from echo_cxr.apps.server import LOCALHOST, ServiceConfig, ServiceThread
    from echo_cxr.model import load

    bundle = load(spec, seed=0)
    for size in sizes:
        config = ServiceConfig(model=spec, host=LOCALHOST, port=0, max_batch_size=size, batch_window_ms=window_ms,
                               max_queue=max(DEFAULT_MAX_QUEUE, concurrency))
        with ServiceThread(config, bundle=bundle) as service:
            yield size, service.url


@app.command()
def main(
    url: Optional[str] = typer.Option(None, help="A running service (loopback only)."),
    serve: Optional[str] = typer.Option(None, help="Start the service here with this model instead."),
    max_batch_sizes: str = typer.Option("1,8", help="With --serve: comma-separated max batch sizes to compare."),
    batch_window_ms: float = typer.Option(10.0, help="With --serve: the batching window."),
    requests: int = typer.Option(100, help="Requests in all (at most 1000)."),
    concurrency: int = typer.Option(8, help="Requests in flight at once (at most 64)."),
    image: list[Path] = typer.Option([DEFAULT_IMAGE], help="Views of the study sent (repeatable)."),
    options: str = typer.Option("{}", help="JSON report options sent with every request."),
    api_key: Optional[str] = typer.Option(None, envvar="ECHO_API_KEY", show_default=False),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Also write the results here as JSON."),
) -> None:
    from echo_cxr.apps.loadtest import LoadConfig, format_result, run_load
    from echo_cxr.errors import EchoError

    try:
        if (url is None) == (serve is None):
            raise EchoError("give either --url of a running service or --serve MODEL")
        opts = json.loads(options)
        images = tuple(str(p) for p in image)
        if url is not None:
            LoadConfig(url, images, requests, concurrency, opts, api_key)  # validate before anything runs
            targets = [(None, url)]
        else:
            sizes = [int(s) for s in max_batch_sizes.split(",") if s.strip()]
            targets = _served(serve, sizes, batch_window_ms, concurrency)
        print(f"machine: {_machine()}; date {datetime.date.today().isoformat()}", flush=True)
        results = []
        for size, target in targets:
            result = run_load(LoadConfig(target, images, requests, concurrency, opts, api_key))
            title = f"{serve or url}" + (f", max batch size {size}" if size is not None else "")
            print(format_result(result, title), flush=True)
            results.append({"max_batch_size": size, **result.as_dict()})
    except (EchoError, json.JSONDecodeError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        raise typer.Exit(2)
    if len(results) > 1 and results[0]["requests_per_second"] > 0:
        ratio = results[-1]["requests_per_second"] / results[0]["requests_per_second"]
        print(f"throughput, max batch size {results[-1]['max_batch_size']} vs {results[0]['max_batch_size']}: "
              f"{ratio:.2f}x")
    if json_out is not None:
        json_out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    app()
