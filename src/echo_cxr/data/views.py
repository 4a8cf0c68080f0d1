"""View categories of chest radiographs, from the way each dataset spells them.

Categories: ``frontal`` (PA, AP and their spellings: POSTERO_ANTERIOR, "AP AXIAL", erect/supine AP
portables), ``lateral`` (LATERAL, LL, RL, XTABLE LATERAL), ``other`` (obliques, decubitus, swimmer's,
lordotic, a bare KUB) and ``unknown`` (empty, UNKNOWN, N/A, or a value not recognised). Studies
are written frontal first, then lateral (``VIEW_RANK``); an unknown view ranks between them because
it may be a frontal (IU X-ray's OpenI XML names no views at all).
"""

from __future__ import annotations

import math
import re

FRONTAL, LATERAL, OTHER, UNKNOWN = "frontal", "lateral", "other", "unknown"
CATEGORIES = (FRONTAL, LATERAL, OTHER, UNKNOWN)
VIEW_RANK = {FRONTAL: 0, UNKNOWN: 1, LATERAL: 2, OTHER: 3}
DEFAULT_VIEWS = (FRONTAL, LATERAL, UNKNOWN)

_UNKNOWN = {"", "UNKNOWN", "N/A", "NA", "NONE", "NAN", "NULL", "OTHER VIEW", "PICC LINE"}
_FRONTAL = {"PA", "AP", "FRONTAL", "POSTERO ANTERIOR", "ANTERO POSTERIOR", "POSTEROANTERIOR", "ANTEROPOSTERIOR",
            "AP AXIAL", "PA AXIAL", "ERECT", "SUPINE", "UPRIGHT", "SEMI ERECT", "SEMI UPRIGHT", "AP SUPINE", "AP ERECT",
            "AP UPRIGHT", "AP PORTABLE", "PORTABLE",
            "AP (KUB)", "AP KUB"}  # ReXGradient-160K (a chest-only set) labels some AP chest films "AP (KUB)"
_LATERAL = {"LATERAL", "LAT", "LL", "RL", "LEFT LATERAL", "RIGHT LATERAL", "XTABLE LATERAL", "X TABLE LATERAL",
            "CROSS TABLE LATERAL", "LATERAL LEFT", "LATERAL RIGHT"}
_OTHER = {"OTHER", "OBLIQUE", "LAO", "RAO", "LPO", "RPO", "SWIMMERS", "SWIMMER", "LORDOTIC", "AP LORDOTIC",
          "DECUBITUS", "LLD", "RLD", "AP LLD", "AP RLD", "PA LLD", "PA RLD", "KUB"}
_DECUBITUS = re.compile(r"DECUB|\b[LR]LD\b|OBLIQ|SWIMMER|LORDOTIC")


def _spelling(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return " ".join(str(value).upper().replace("_", " ").replace("-", " ").split())


def classify_view(value) -> str:
    """The category of one dataset view value (any case, ``_`` / ``-`` as spaces)."""
    name = _spelling(value)
    for names, category in ((_UNKNOWN, UNKNOWN), (_FRONTAL, FRONTAL), (_LATERAL, LATERAL), (_OTHER, OTHER)):
        if name in names:
            return category
    if _DECUBITUS.search(name):
        return OTHER
    if "LAT" in name.split() or "LATERAL" in name:
        return LATERAL
    if re.match(r"^(PA|AP)\b", name) or "FRONTAL" in name or "POSTERO" in name or "ANTERO" in name:
        return FRONTAL
    return UNKNOWN


def first_known(*values) -> tuple[str, str]:
    """(category, raw value) of the first value that is not unknown; else (unknown, first value)."""
    for value in values:
        category = classify_view(value)
        if category != UNKNOWN:
            return category, _spelling(value)
    return UNKNOWN, _spelling(values[0]) if values else ""


def parse_views(text: str) -> tuple[str, ...]:
    """``--views frontal,lateral`` -> categories; unknown names are an error for the caller."""
    return tuple(part.strip().lower() for part in text.split(",") if part.strip())
