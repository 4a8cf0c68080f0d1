"""Counts for a data set manifest: studies per finding, realised prevalence, normal share."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from echo_cxr.phantom.catalog import FINDING_NAMES
from echo_cxr.phantom.config import PhantomConfig

ROUND = 4


def manifest_counts(samples: Sequence[dict[str, Any]], config: PhantomConfig) -> dict[str, Any]:
    """Per-study statistics (each study counted once, whatever the number of languages)."""
    studies: dict[str, dict[str, Any]] = {}
    for sample in samples:
        studies.setdefault(sample["study_id"], sample)
    n = len(studies)
    counts = Counter(label["finding"] for s in studies.values() for label in s["labels"])
    normal = sum(1 for s in studies.values() if not s["labels"])
    lateral = sum(1 for s in studies.values() if "lateral" in s.get("views", []))
    non_normal = n - normal

    def share(count: int, total: int) -> float:
        return round(count / total, ROUND) if total else 0.0

    return {
        "counts": {"studies": n, "samples": len(samples), "normal": normal,
                   "with_lateral": lateral,
                   "findings": {f: counts.get(f, 0) for f in FINDING_NAMES}},
        "normal_fraction": {"configured": round(config.normal_fraction, ROUND),
                            "realised": share(normal, n)},
        "prevalence": {
            "meaning": "probability of a finding in a study that is not drawn as normal",
            "configured": {f: p for f, p in config.effective_prevalence().items()},
            "realised_in_non_normal": {f: share(counts.get(f, 0), non_normal)
                                       for f in FINDING_NAMES},
            "realised_overall": {f: share(counts.get(f, 0), n) for f in FINDING_NAMES},
        },
    }
