"""Dynamic batching of concurrent requests through the one decoder.

Requests are queued; one worker thread owns the model. It takes the oldest request, then waits
up to ``window_s`` for more requests *with the same decoding settings* (the decoder batches rows
that share a ``DecodeConfig``; each row keeps its own seed) until ``max_batch_size`` are
gathered, and calls ``decoding.generate`` once for all of them. The decoder gives every row the
tokens it would get alone (tested in tests/decoding), so a batched response equals the
one-at-a-time response. Requests with other settings wait for a later batch, in order.

A request whose future was cancelled (its client timed out) before the batch started is dropped.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace

from echo_cxr.errors import EchoError

DEFAULT_MAX_BATCH_SIZE = 8
DEFAULT_WINDOW_S = 0.01  # how long the first request of a batch waits for company
DEFAULT_MAX_QUEUE = 64


class QueueFullError(EchoError):
    """The queue holds ``max_queue`` requests already; the client should retry later."""


@dataclass
class Job:
    """One queued request: its study, settings, streaming callback and result future."""

    study: object  # decoding.Study
    config: object  # decoding.DecodeConfig
    decoder: str
    on_block: Callable | None = None  # called from the worker thread with each BlockEvent
    future: Future = field(default_factory=Future)

    @property
    def key(self) -> tuple:
        """Requests with equal keys can share a ``generate`` call (seeds travel per row)."""
        return self.decoder, replace(self.config, seed=0)


@dataclass
class BatchStats:
    """What the worker has done: for /healthz and the load test."""

    batches: int = 0
    requests: int = 0
    largest: int = 0
    failed_batches: int = 0

    def as_dict(self) -> dict:
        mean = self.requests / self.batches if self.batches else 0.0
        return {"batches": self.batches, "requests": self.requests, "largest_batch": self.largest,
                "mean_batch_size": mean, "failed_batches": self.failed_batches}


class DynamicBatcher:
    """A queue and a worker thread batching requests for ``bundle`` (see module docstring)."""

    def __init__(self, bundle, max_batch_size: int = DEFAULT_MAX_BATCH_SIZE, window_s: float = DEFAULT_WINDOW_S,
                 max_queue: int = DEFAULT_MAX_QUEUE):
        if max_batch_size < 1:
            raise EchoError(f"max batch size must be at least 1, got {max_batch_size}")
        if window_s < 0:
            raise EchoError(f"batch window must not be negative, got {window_s}")
        if max_queue < 1:
            raise EchoError(f"max queue length must be at least 1, got {max_queue}")
        self.bundle = bundle
        self.max_batch_size, self.window_s, self.max_queue = max_batch_size, window_s, max_queue
        self.stats = BatchStats()
        self._queue: deque[Job] = deque()
        self._ready = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._work, name="echo-cxr-batcher", daemon=True)

    def start(self) -> "DynamicBatcher":
        self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        """Finish the running batch, fail the queued requests, end the worker."""
        with self._ready:
            self._stopping = True
            pending = list(self._queue)
            self._queue.clear()
            self._ready.notify_all()
        for job in pending:
            if job.future.set_running_or_notify_cancel():
                job.future.set_exception(EchoError("the service is shutting down"))
        if self._thread.is_alive():
            self._thread.join(timeout)

    def queue_length(self) -> int:
        """Requests waiting (those whose client gave up are dropped first)."""
        with self._ready:
            self._drop_cancelled()
            return len(self._queue)

    def _drop_cancelled(self) -> None:
        if any(job.future.cancelled() for job in self._queue):
            self._queue = deque(job for job in self._queue if not job.future.cancelled())

    def submit(self, study, config, decoder: str = "blockwise", on_block: Callable | None = None) -> Future:
        """Queue one request; its future resolves to a ``DecodeResult`` (or the decoder's error)."""
        job = Job(study, config, decoder, on_block)
        with self._ready:
            if self._stopping:
                raise EchoError("the service is shutting down")
            self._drop_cancelled()
            if len(self._queue) >= self.max_queue:
                raise QueueFullError(f"the queue is full ({self.max_queue} requests waiting); retry later")
            self._queue.append(job)
            self._ready.notify_all()
        return job.future

    def _work(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            self._run(batch)

    def _next_batch(self) -> list[Job] | None:
        """Block for the oldest job, then gather jobs with its key until full or the window ends."""
        with self._ready:
            while not self._queue and not self._stopping:
                self._ready.wait()
            if self._stopping:
                return None
            first = self._queue.popleft()
            batch = [first]
            deadline = time.monotonic() + self.window_s
            while len(batch) < self.max_batch_size:
                batch += self._take_matching(first.key, self.max_batch_size - len(batch))
                left = deadline - time.monotonic()
                if len(batch) >= self.max_batch_size or left <= 0 or self._stopping:
                    break
                self._ready.wait(left)
        return [job for job in batch if job.future.set_running_or_notify_cancel()]

    def _take_matching(self, key: tuple, room: int) -> list[Job]:
        taken = [job for job in self._queue if job.key == key][:room]
        for job in taken:
            self._queue.remove(job)
        return taken

    def _run(self, batch: list[Job]) -> None:
        if not batch:
            return
        try:
            results = self._generate(batch)
        except EchoError as err:
            if len(batch) == 1:
                batch[0].future.set_exception(err)
                return
            self.stats.failed_batches += 1
            for job in batch:  # isolate the request that fails; the others still get their report
                self._run_alone(job)
            return
        except Exception as err:  # noqa: BLE001 - an internal error must reach every waiting client
            self.stats.failed_batches += 1
            for job in batch:
                job.future.set_exception(err)
            return
        for job, result in zip(batch, results):
            job.future.set_result(result)

    def _run_alone(self, job: Job) -> None:
        try:
            job.future.set_result(self._generate([job])[0])
        except Exception as err:  # noqa: BLE001 - reported to that request's client
            job.future.set_exception(err)

    def _generate(self, batch: list[Job]) -> list:
        from echo_cxr.decoding import Callbacks, generate

        streams = [job.on_block for job in batch]

        def on_block(event) -> None:
            if streams[event.request] is not None:
                streams[event.request](event)

        callbacks = Callbacks(on_block=on_block) if any(streams) else None
        first = batch[0]
        results = generate(self.bundle, [job.study for job in batch], first.config, decoder=first.decoder,
                           callbacks=callbacks)
        self.stats.batches += 1
        self.stats.requests += len(batch)
        self.stats.largest = max(self.stats.largest, len(batch))
        return results
