"""One phantom study: its clinical truth, its reports (EN and ZH) and its rendered views."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from echo_cxr.errors import EchoError
from echo_cxr.phantom.config import PhantomConfig
from echo_cxr.phantom.labels import Label, canonical_labels
from echo_cxr.phantom.reports import LANGUAGES, Report, compose_report
from echo_cxr.phantom.sampling import sample_labels
from echo_cxr.phantom.streams import REPORT_STREAMS, Stream, stream


@dataclass(frozen=True)
class Study:
    """A phantom study.

    labels: canonical structured truth (see ``labels.py``); empty = normal study.
    reports: {"en": Report, "zh": Report}, each with ``findings``, ``impression`` and ``text``.
    views: {"frontal": array, optionally "lateral": array}, each (S, S) float32 in [0, 1] with
        1 = dense (white, MONOCHROME2 display); empty when generated with ``render=False``.
    """

    seed: int
    index: int
    labels: list[Label]
    reports: dict[str, Report]
    views: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def is_normal(self) -> bool:
        return not self.labels


def _check_key(seed: int, index: int) -> None:
    for name, value in (("seed", seed), ("index", index)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise EchoError(f"{name} must be a non-negative integer, got {value!r}")


def study_labels(seed: int, index: int, config: PhantomConfig) -> list[Label]:
    """The clinical truth of study (seed, index) under ``config``."""
    _check_key(seed, index)
    return sample_labels(stream(seed, index, Stream.LABELS), config.effective_prevalence(),
                         config.normal_fraction, config.max_findings)


def generate_study(seed: int, index: int, config: PhantomConfig | None = None, *,
                   render: bool = True, labels: Sequence[Mapping[str, str]] | None = None
                   ) -> Study:
    """Study ``index`` of the phantom with master ``seed`` (deterministic per (seed, index)).

    ``render=False`` skips the images (reports and labels only, ~1000x faster).
    ``labels`` overrides the sampled truth, e.g. to render the same patient with and without a
    finding; anatomy, pose and noise stay those of (seed, index).
    """
    from echo_cxr.phantom.render import render_views

    config = config or PhantomConfig()
    _check_key(seed, index)
    truth = study_labels(seed, index, config) if labels is None else canonical_labels(labels)
    reports = {lang: compose_report(truth, lang, stream(seed, index, REPORT_STREAMS[lang]))
               for lang in LANGUAGES}
    views = render_views(truth, seed, index, config) if render else {}
    return Study(seed=int(seed), index=int(index), labels=truth, reports=reports, views=views)
