"""Load test of the REST service: N requests at concurrency C, loopback only, bounded.

Each of C client threads sends ``POST /v1/reports`` with the same study until N requests have
been sent; the result counts errors by status, and reports throughput (requests/s, generated
tokens/s), latency percentiles (nearest-rank p50/p95/p99) and the service's batching counters
over the run (from ``/healthz`` before and after).
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from echo_cxr.errors import EchoError

MAX_REQUESTS = 1000
MAX_CONCURRENCY = 64
DEFAULT_TIMEOUT_S = 600.0
LOOPBACK_NAMES = ("localhost",)
PERCENTILES = (50, 95, 99)
TRANSPORT_ERROR = "transport"


@dataclass(frozen=True)
class LoadConfig:
    """What to send, how often, how many at once; validated on construction."""

    url: str
    images: tuple[str, ...]
    requests: int = 100
    concurrency: int = 8
    options: dict = field(default_factory=dict)
    api_key: str | None = field(default=None, repr=False)
    timeout_s: float = DEFAULT_TIMEOUT_S

    def __post_init__(self) -> None:
        check_loopback(self.url)
        if not 1 <= self.requests <= MAX_REQUESTS:
            raise EchoError(f"requests must be between 1 and {MAX_REQUESTS}, got {self.requests}")
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise EchoError(f"concurrency must be between 1 and {MAX_CONCURRENCY}, got {self.concurrency}")
        if not self.images:
            raise EchoError("give at least one image to send")
        for image in self.images:
            if not Path(image).is_file():
                raise EchoError(f"image not found: {image}")


def check_loopback(url: str) -> None:
    """Refuse any target that is not this machine's loopback interface."""
    import ipaddress

    host = urlparse(url).hostname
    if host is None:
        raise EchoError(f"not a URL: {url!r}")
    if host in LOOPBACK_NAMES:
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise EchoError(f"the load test only targets loopback addresses (127.0.0.1, ::1, localhost), not {host}")


@dataclass
class LoadResult:
    requests: int
    concurrency: int
    seconds: float
    latencies: list[float]  # of successful requests
    errors: Counter
    new_tokens: int
    batching: dict

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def throughput(self) -> float:
        return self.ok / self.seconds if self.seconds > 0 else 0.0

    @property
    def tokens_per_second(self) -> float:
        return self.new_tokens / self.seconds if self.seconds > 0 else 0.0

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile of the successful latencies (0 when none succeeded)."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[max(math.ceil(q / 100 * len(ordered)) - 1, 0)]

    def as_dict(self) -> dict:
        return {"requests": self.requests, "concurrency": self.concurrency, "ok": self.ok,
                "errors": dict(self.errors), "seconds": self.seconds, "requests_per_second": self.throughput,
                "tokens_per_second": self.tokens_per_second,
                **{f"p{q}_seconds": self.percentile(q) for q in PERCENTILES}, "batching": self.batching}


def _batching(client, url: str) -> dict:
    return client.get(f"{url}/healthz").json()["batching"]


def run_load(config: LoadConfig) -> LoadResult:
    """Send ``config.requests`` requests from ``config.concurrency`` threads; see module docstring."""
    import httpx

    files = [("images", (Path(p).name, Path(p).read_bytes())) for p in config.images]
    data = {"options": json.dumps(config.options)}
    headers = {"X-API-Key": config.api_key} if config.api_key else {}
    url = config.url.rstrip("/")
    remaining, lock = [config.requests], threading.Lock()
    latencies, errors, tokens = [], Counter(), [0]

    def client_loop() -> None:
        with httpx.Client(timeout=config.timeout_s, headers=headers) as client:
            while True:
                with lock:
                    if remaining[0] == 0:
                        return
                    remaining[0] -= 1
                started = time.perf_counter()
                try:
                    response = client.post(f"{url}/v1/reports", files=files, data=data)
                except httpx.HTTPError as err:
                    with lock:
                        errors[f"{TRANSPORT_ERROR}:{type(err).__name__}"] += 1
                    continue
                elapsed = time.perf_counter() - started
                with lock:
                    if response.status_code == 200:
                        latencies.append(elapsed)
                        tokens[0] += response.json()["stats"]["new_tokens"]
                    else:
                        errors[str(response.status_code)] += 1

    with httpx.Client(headers=headers) as probe:
        before = _batching(probe, url)
        threads = [threading.Thread(target=client_loop) for _ in range(config.concurrency)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
        after = _batching(probe, url)
    batches = after["batches"] - before["batches"]
    served = after["requests"] - before["requests"]
    batching = {"batches": batches, "requests": served, "mean_batch_size": served / batches if batches else 0.0,
                "largest_batch": after["largest_batch"]}
    return LoadResult(config.requests, config.concurrency, seconds, latencies, errors, tokens[0], batching)


def format_result(result: LoadResult, title: str) -> str:
    """A few aligned lines for the terminal and the docs."""
    errors = ", ".join(f"{k}: {v}" for k, v in sorted(result.errors.items())) or "0"
    p = {q: result.percentile(q) for q in PERCENTILES}
    return "\n".join([
        title,
        f"  requests {result.requests} at concurrency {result.concurrency}: {result.ok} ok, errors {errors}",
        f"  wall {result.seconds:.2f} s, throughput {result.throughput:.2f} req/s, "
        f"{result.tokens_per_second:.1f} generated tok/s",
        f"  latency p50 {p[50]:.3f} s, p95 {p[95]:.3f} s, p99 {p[99]:.3f} s",
        f"  batches {result.batching['batches']}, mean size {result.batching['mean_batch_size']:.2f}, "
        f"largest {result.batching['largest_batch']}",
    ])
