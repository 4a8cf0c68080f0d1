"""Drawing the clinical truth of one study: normal or not, which findings, which attributes.

Findings are drawn in catalog order, each with its (configurable) prevalence, multiplied by
co-occurrence boosts from findings drawn before (edema with cardiomegaly, effusions with edema,
lines and tubes with an endotracheal tube...). A finding that would sit where an earlier one
already is (an effusion on the side of a pneumothorax, a lower-zone consolidation under a large
effusion...) is redrawn or dropped, so every finding in the truth stays visible in the image.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from echo_cxr.phantom.catalog import BILATERAL, CATALOG, CATALOG_BY_NAME, FindingSpec
from echo_cxr.phantom.labels import Label, canonical_labels

ATTRIBUTE_REDRAWS = 4  # tries to find non-conflicting attributes before dropping a finding

# (earlier finding, later finding, prevalence multiplier)
CO_OCCURRENCE: tuple[tuple[str, str, float], ...] = (
    ("cardiomegaly", "pulmonary_edema", 3.0),
    ("cardiomegaly", "pacemaker", 2.0),
    ("pulmonary_edema", "pleural_effusion", 2.5),
    ("endotracheal_tube", "central_venous_catheter", 3.0),
    ("endotracheal_tube", "nasogastric_tube", 5.0),
)
EDEMA_BILATERAL_EFFUSION_PROB = 0.7  # effusions that come with edema are mostly bilateral
LARGE_EFFUSION_REACH = ("moderate", "large")  # these reach up into the lower zone
BIG_HEART = ("moderate", "marked")


def _sides(label: Mapping[str, str]) -> tuple[str, ...]:
    side = label.get("laterality", "")
    return ("left", "right") if side == BILATERAL else (side,)


def claimed_slots(label: Mapping[str, str]) -> set[str]:
    """Image regions a finding occupies; two findings may not claim the same slot."""
    name, slots = label["finding"], set()
    if name == "pleural_effusion":
        for side in _sides(label):
            slots |= {f"{side}_pleural_space", f"{side}_diaphragm"}
            if label["severity"] in LARGE_EFFUSION_REACH:
                slots.add(f"{side}_lower")
            if label["severity"] == "large" and side == "right":
                slots.add("right_middle")
    elif name == "pneumothorax":
        slots.add(f"{label['laterality']}_pleural_space")
        if label["severity"] == "large":
            slots |= {f"{label['laterality']}_{lvl}" for lvl in ("upper", "middle", "lower")}
    elif name in ("consolidation", "nodule"):
        slots |= {label["zone"], f"visible_{label['zone']}"}  # zones double as "<side>_<level>"
    elif name == "atelectasis":
        slots |= {f"{label['laterality']}_lower", f"visible_{label['laterality']}_lower"}
    elif name == "cardiomegaly" and label["severity"] in BIG_HEART:
        slots.add("visible_left_lower")  # a large heart hides the left lower zone
    elif name == "elevated_hemidiaphragm":
        slots.add(f"{label['laterality']}_diaphragm")
    return slots


def draw_attributes(spec: FindingSpec, rng: np.random.Generator,
                    chosen: Mapping[str, Label]) -> Label:
    """Attributes of one finding, weighted by the catalog, nudged by findings already drawn."""
    label: Label = {"finding": spec.name}
    for attr in spec.attributes:
        weights = None
        if attr.weights is not None:
            weights = np.asarray(attr.weights, dtype=np.float64)
            weights = weights / weights.sum()
        label[attr.name] = str(attr.values[rng.choice(len(attr.values), p=weights)])
    edema_effusion = spec.name == "pleural_effusion" and "pulmonary_edema" in chosen
    if edema_effusion and rng.random() < EDEMA_BILATERAL_EFFUSION_PROB:
        label["laterality"] = BILATERAL
    return label


def _try_add(spec: FindingSpec, rng: np.random.Generator, chosen: dict[str, Label],
             taken: set[str]) -> None:
    for _ in range(ATTRIBUTE_REDRAWS):
        label = draw_attributes(spec, rng, chosen)
        slots = claimed_slots(label)
        if not slots & taken:
            chosen[spec.name] = label
            taken |= slots
            return


def sample_labels(rng: np.random.Generator, prevalence: Mapping[str, float],
                  normal_fraction: float, max_findings: int) -> list[Label]:
    """The canonical labels of one study (an empty list is a normal study)."""
    if rng.random() < normal_fraction:
        return []
    chosen: dict[str, Label] = {}
    taken: set[str] = set()
    for spec in CATALOG:
        p = prevalence[spec.name]
        for earlier, later, boost in CO_OCCURRENCE:
            if later == spec.name and earlier in chosen:
                p *= boost
        if rng.random() < min(p, 1.0):
            _try_add(spec, rng, chosen, taken)
    if not chosen:
        _add_one(rng, prevalence, chosen, taken)
    labels = list(chosen.values())
    if len(labels) > max_findings:
        keep = rng.choice(len(labels), size=max_findings, replace=False)
        labels = [labels[i] for i in sorted(keep)]
    return canonical_labels(labels)


def _add_one(rng: np.random.Generator, prevalence: Mapping[str, float],
             chosen: dict[str, Label], taken: set[str]) -> None:
    """An abnormal study with nothing drawn gets one finding, weighted by prevalence."""
    names = [name for name in CATALOG_BY_NAME if prevalence[name] > 0]
    if not names:
        return
    weights = np.asarray([prevalence[n] for n in names], dtype=np.float64)
    name = names[rng.choice(len(names), p=weights / weights.sum())]
    _try_add(CATALOG_BY_NAME[name], rng, chosen, taken)
