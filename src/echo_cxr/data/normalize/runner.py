"""``normalize``: rewrite every report of a release-schema file in the paper's region order
(METHOD.md section 4), keeping only rewrites that pass every check (docs/data.md).

Flow: distinct report texts become jobs; jobs already in the cache are not asked again; the rest
go to the backend with at most ``concurrency`` requests in flight. A request that fails in
transport (timeout, connection, HTTP 429/5xx, malformed body) is retried up to ``max_retries``
times with exponential backoff; an answer that fails review is retried up to ``max_attempts``
rewrites in all, each retry telling the model what was wrong. A job ends accepted or rejected
(original kept, flagged) and its record is appended to the cache at once, so a killed run loses
at most the requests in flight. A job whose transport keeps failing ends as an error: it is not
cached (a rerun asks again) and its original is kept. Answers are reviewed in the main thread
(the labelers are not shared across threads).
"""

from __future__ import annotations

import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from echo_cxr.data.normalize.backends import BACKENDS, Completion, TransportError
from echo_cxr.data.normalize.cache import RewriteCache, cache_key
from echo_cxr.data.normalize.config import NormalizeConfig
from echo_cxr.data.normalize.output import read_input, write_outputs
from echo_cxr.data.normalize.prompt import load_prompt
from echo_cxr.data.normalize.review import Job, is_phantom, review
from echo_cxr.data.progress import progress_bar

ACCEPTED, REJECTED, ERROR = "accepted", "rejected", "error"
SINGLE_THREADED = ("transformers",)  # one local model: requests run one at a time


@dataclass
class Call:
    """The outcome of one request after its transport retries."""

    completion: Completion | None
    errors: list[str] = field(default_factory=list)
    retryable: bool = True


def call_with_retries(backend, messages: list[dict], config: NormalizeConfig, sleep=time.sleep) -> Call:
    errors = []
    for retry in range(config.max_retries + 1):
        try:
            return Call(backend.complete(messages), errors)
        except TransportError as err:
            errors.append(str(err))
            if not err.retryable:
                return Call(None, errors, retryable=False)
        if retry < config.max_retries:
            sleep(min(config.backoff_max_s, config.backoff_s * 2**retry))
    return Call(None, errors)


@dataclass
class _Flight:
    job: Job
    messages: list[dict]
    attempts: list[dict] = field(default_factory=list)


def _jobs(entries: list[dict], samples, prompt_id: str, model_id: str) -> tuple[dict[str, Job], dict[str, str]]:
    """Jobs by cache key, and each sample's key ('' for a sample with no report text)."""
    jobs: dict[str, Job] = {}
    keys: dict[str, str] = {}
    for entry, sample in zip(entries, samples):
        findings, impression = sample.findings.strip(), sample.impression.strip()
        if not findings and not impression:
            keys[sample.sample_id] = ""
            continue
        key = cache_key(prompt_id, model_id, sample.language, findings, impression)
        job = jobs.setdefault(key, Job(key, findings, impression, sample.language, is_phantom(entry)))
        job.sample_ids.append(sample.sample_id)
        keys[sample.sample_id] = key
    return jobs, keys


class Normalizer:
    def __init__(self, config: NormalizeConfig):
        self.config = config
        self.prompt = load_prompt(config.prompt_version)
        self.entries, self.samples = read_input(config.data)
        self.backend = BACKENDS[config.backend](config)
        self.cache = RewriteCache(config.cache_path)
        self.jobs, self.keys = _jobs(self.entries, self.samples, self.prompt.prompt_id, self.backend.model_id)
        self.errors: dict[str, dict] = {}
        self.finished = {ACCEPTED: 0, REJECTED: 0}  # this run's jobs
        self.totals = {"requests": 0, "transport_errors": 0, "prompt_tokens": 0, "completion_tokens": 0,
                       "backend_seconds": 0.0}

    def _record(self, flight: _Flight, status: str, findings: str, impression: str) -> dict:
        job = flight.job
        return {"key": job.key, "status": status, "language": job.language, "findings": findings,
                "impression": impression, "original": {"findings": job.findings, "impression": job.impression},
                "prompt": self.prompt.prompt_id, "model": self.backend.model_id, "attempts": flight.attempts}

    def _answer(self, flight: _Flight, call: Call) -> list[dict] | None:
        """Book one request; the next messages when the job needs another rewrite, else None."""
        completion = call.completion
        self.totals["requests"] += len(call.errors) + (completion is not None)
        self.totals["transport_errors"] += len(call.errors)
        if completion is None:
            flight.attempts.append({"transport_errors": call.errors})
            self.errors[flight.job.key] = self._record(flight, ERROR, flight.job.findings, flight.job.impression)
            return None
        self.totals["prompt_tokens"] += completion.prompt_tokens
        self.totals["completion_tokens"] += completion.completion_tokens
        self.totals["backend_seconds"] += completion.seconds
        result = review(flight.job, completion.text, self.config.keep_negatives, self.config.region_labels)
        flight.attempts.append({"problems": result.problems, "answer": completion.text, "transport_errors": call.errors,
                                "prompt_tokens": completion.prompt_tokens,
                                "completion_tokens": completion.completion_tokens,
                                "seconds": round(completion.seconds, 3)})
        if not result.problems:
            self.cache.add(self._record(flight, ACCEPTED, result.findings, result.impression))
            self.finished[ACCEPTED] += 1
            return None
        if len(flight.attempts) >= self.config.max_attempts:
            self.cache.add(self._record(flight, REJECTED, flight.job.findings, flight.job.impression))
            self.finished[REJECTED] += 1
            return None
        return self.prompt.retry(flight.messages, completion.text, result.problems, flight.job.language)

    def _run(self, todo: list[Job], bar) -> None:
        workers = 1 if self.config.backend in SINGLE_THREADED else self.config.concurrency
        queue, inflight = deque(todo), {}
        with ThreadPoolExecutor(max_workers=workers) as pool:
            while queue or inflight:
                while queue and len(inflight) < workers:
                    job = queue.popleft()
                    flight = _Flight(job, self.prompt.messages(job.findings, job.impression, job.language))
                    inflight[pool.submit(call_with_retries, self.backend, flight.messages, self.config)] = flight
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for future in done:
                    flight = inflight.pop(future)
                    more = self._answer(flight, future.result())
                    if more is None:
                        bar.advance(status=self._status())
                        continue
                    flight.messages = more
                    inflight[pool.submit(call_with_retries, self.backend, more, self.config)] = flight

    def _status(self) -> str:
        return (f"ok {self.finished[ACCEPTED]} rejected {self.finished[REJECTED]} errors {len(self.errors)} "
                f"tokens {self.totals['prompt_tokens'] + self.totals['completion_tokens']}")

    def run(self) -> dict:
        start = time.monotonic()
        cached = {key for key in self.jobs if key in self.cache}
        todo = [job for key, job in self.jobs.items() if key not in cached]
        try:
            with progress_bar(self.config.progress, "normalize (reports)", len(self.jobs), len(cached)) as bar:
                self._run(todo, bar)
        finally:
            self.cache.close()
            self.backend.close()
        self.totals["wall_seconds"] = time.monotonic() - start
        return write_outputs(self, cached)


def normalize(config: NormalizeConfig) -> dict:
    """Normalise ``config.data`` into ``config.out``; returns the summary (also written beside it)."""
    return Normalizer(config).run()
