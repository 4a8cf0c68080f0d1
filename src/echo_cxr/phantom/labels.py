"""Structured labels: the exact clinical truth of a phantom study, in a canonical JSON form.

A label is a flat ``dict[str, str]``: ``{"finding": <catalog name>, <attribute>: <value>, ...}``
holding exactly the attributes its catalog entry declares (none for ETT / NG tube). A study's
labels are a list sorted by catalog order, at most one label per finding type, so two label
lists are equal exactly when the clinical content is equal. Examples::

    {"finding": "pleural_effusion", "laterality": "left", "severity": "small"}
    {"finding": "consolidation", "zone": "right_lower"}
    {"finding": "central_venous_catheter", "laterality": "right"}
    {"finding": "endotracheal_tube"}

Predicted labels (from ``label_report``) may carry the value ``"unspecified"`` for an attribute
the text did not state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from echo_cxr.errors import EchoError
from echo_cxr.phantom.catalog import CATALOG_BY_NAME, CATALOG_INDEX, UNSPECIFIED

Label = dict[str, str]


def make_label(finding: str, **attributes: str) -> Label:
    """Build one validated label with keys in catalog order."""
    return validate_label({"finding": finding, **attributes})


def validate_label(label: Mapping[str, str], allow_unspecified: bool = False) -> Label:
    """Check a label against the catalog and return it as a dict with ordered keys."""
    name = label.get("finding")
    if name not in CATALOG_BY_NAME:
        raise EchoError(f"unknown finding {name!r} in label {dict(label)}")
    spec = CATALOG_BY_NAME[name]
    extra = set(label) - {"finding", *spec.attribute_names}
    if extra:
        raise EchoError(f"label {dict(label)} has attributes {sorted(extra)} not used by {name}")
    out: Label = {"finding": name}
    for attr in spec.attributes:
        value = label.get(attr.name)
        allowed = value in attr.values or (allow_unspecified and value == UNSPECIFIED)
        if not allowed:
            raise EchoError(f"label {dict(label)}: {attr.name} must be one of {attr.values}")
        out[attr.name] = value
    return out


def label_sort_key(label: Mapping[str, str]) -> tuple:
    """Catalog order first, then attribute values (so duplicates sit together)."""
    return (CATALOG_INDEX[label["finding"]], tuple(sorted(label.items())))


def canonical_labels(labels: Iterable[Mapping[str, str]], allow_unspecified: bool = False
                     ) -> list[Label]:
    """Validate, deduplicate by finding type (first kept) and sort labels into canonical order."""
    seen: dict[str, Label] = {}
    for label in labels:
        clean = validate_label(label, allow_unspecified=allow_unspecified)
        seen.setdefault(clean["finding"], clean)
    return sorted(seen.values(), key=label_sort_key)
