"""Typed settings of ``echo-cxr data normalize`` (validated on construction)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from echo_cxr.data.normalize.prompt import DEFAULT_VERSION
from echo_cxr.errors import EchoError

DEFAULT_TIMEOUT_S = 120.0
DEFAULT_CONCURRENCY = 4
DEFAULT_MAX_ATTEMPTS = 3  # rewrites of one report (a rejected one is retried with the reasons)
DEFAULT_MAX_RETRIES = 4  # transport retries of one request (timeouts, HTTP 5xx, malformed bodies)
DEFAULT_BACKOFF_S = 1.0  # first wait before a transport retry; doubles each time
DEFAULT_BACKOFF_MAX_S = 30.0
DEFAULT_MAX_NEW_TOKENS = 1024
AUDIT_SUFFIX, SUMMARY_SUFFIX, CACHE_SUFFIX = ".audit.jsonl", ".summary.json", ".cache.jsonl"


@dataclass(frozen=True)
class NormalizeConfig:
    data: str  # release-schema JSON file
    out: str  # normalised release-schema JSON file (audit, summary and cache beside it)
    backend: str = "openai"  # openai | transformers
    model: str | None = None  # openai: the served model name; transformers: folder or hub id
    endpoint: str | None = None  # openai: base URL, e.g. http://127.0.0.1:8000/v1
    api_key_env: str = "OPENAI_API_KEY"
    prompt_version: str = DEFAULT_VERSION
    concurrency: int = DEFAULT_CONCURRENCY
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    max_retries: int = DEFAULT_MAX_RETRIES
    backoff_s: float = DEFAULT_BACKOFF_S
    backoff_max_s: float = DEFAULT_BACKOFF_MAX_S
    temperature: float = 0.0
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    keep_negatives: bool = True  # a negated finding must stay stated (negation_dropped otherwise)
    region_labels: bool = False  # keep "Thorax: ..." labels in the written findings
    cache: str | None = None  # default: <out without .json>.cache.jsonl
    device: str = "cpu"  # transformers backend
    progress: bool = True

    def __post_init__(self) -> None:
        from echo_cxr.data.normalize.backends import BACKENDS

        checks = [
            (self.backend in BACKENDS, f"unknown backend {self.backend!r}; choose one of {', '.join(BACKENDS)}"),
            (bool(self.model), f"backend {self.backend!r} needs --model"),
            (self.backend != "openai" or bool(self.endpoint), "backend 'openai' needs --endpoint (…/v1)"),
            (self.concurrency >= 1, "--concurrency must be at least 1"),
            (self.timeout_s > 0, "--timeout must be positive"),
            (self.max_attempts >= 1, "--max-attempts must be at least 1"),
            (self.max_retries >= 0, "--max-retries must be >= 0"),
            (self.backoff_s >= 0 and self.backoff_max_s >= self.backoff_s, "backoff must be >= 0 and <= its cap"),
            (self.temperature >= 0, "--temperature must be >= 0"),
            (self.max_new_tokens >= 1, "--max-new-tokens must be at least 1"),
            (Path(self.out).resolve() != Path(self.data).resolve(), "--out must differ from --data"),
        ]
        for ok, message in checks:
            if not ok:
                raise EchoError(message)

    def beside_out(self, suffix: str) -> Path:
        out = Path(self.out)
        return out.with_name((out.stem if out.suffix == ".json" else out.name) + suffix)

    @property
    def cache_path(self) -> Path:
        return Path(self.cache) if self.cache else self.beside_out(CACHE_SUFFIX)
