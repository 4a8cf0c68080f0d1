"""Types shared by every metric: what a metric receives, what it returns, how it is registered."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from echo_cxr.errors import EchoError


@dataclass
class Pair:
    """One scored sample: the generated and the reference text in the forms metrics need."""

    hyp: str  # generated text as selected for scoring (ScoreConfig.text)
    ref: str  # reference text in the same form
    raw_hyp: str  # the model output exactly as generated (release-compatible metrics)
    raw_ref: str  # the release's reference string (METHOD.md section 6)
    language: str  # "en" | "zh"
    labels: list | None = None  # structured truth, when the data set carries it
    hyp_en: str | None = None  # English translations (Chinese samples, translation on)
    ref_en: str | None = None


@dataclass
class MetricOutput:
    """Per-sample values (aligned with the pairs; None = undefined for that sample) and/or
    corpus-level values; or the reason it was not computed."""

    per_sample: dict[str, list[float | None]] = field(default_factory=dict)
    corpus: dict[str, float] = field(default_factory=dict)
    details: dict = field(default_factory=dict)
    not_computed: str | None = None

    @classmethod
    def skipped(cls, reason: str) -> "MetricOutput":
        return cls(not_computed=reason)


class NotComputed(EchoError):
    """A metric cannot run here (no weights offline, missing optional package...): reported as
    "not computed: <why>", never as a number."""


@dataclass(frozen=True)
class Metric:
    """A registered metric. ``compute(pairs, language, context)`` scores one language group
    (language "all" = several languages pooled, only for ``poolable`` metrics)."""

    name: str
    group: str
    compute: Callable[[Sequence[Pair], str, object], MetricOutput]
    description: str
    corpus_dependent: bool = False  # a sample's value depends on the other samples (recompute per view)
    poolable: bool = False  # meaningful on EN and ZH samples together
    percent: bool = True  # shown x100 in tables
