"""Pulmonary vessel trees, drawn once per process into a small bank of seeded variants.

Branching trees from each hilum (thinner, fainter and wandering at every generation) are the
most stroke-heavy part of a frontal view; drawing ``VARIANTS`` of them once and pasting one per
study (shifted with the midline) keeps rendering fast. The bank is seeded, so a study looks the
same in every process.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image

from echo_cxr.phantom.render.anatomy import SIGN, Anatomy
from echo_cxr.phantom.render.canvas import Canvas

VARIANTS = 48
BANK_SEED = 7_2026
DEPTH = 4
TRUNKS = 7
LAYER = "vessel"


def _branch(segments: list, start: tuple[float, float], angle: float, length: float, depth: int,
            rng: np.random.Generator) -> None:
    """Collect one vessel and, recursively, its daughters as (start, end, depth) segments."""
    # sin(angle) < 0 points up the image: vessels to the upper zones run more vertically.
    end = (start[0] + length * np.cos(angle), start[1] + length * np.sin(angle) * 1.1)
    segments.append((start, end, depth))
    if depth > 1:
        turns = (-0.42, 0.42) if rng.random() < 0.7 else (-0.5, 0.05, 0.5)
        for turn in turns:
            child = angle + turn + rng.uniform(-0.25, 0.25)
            _branch(segments, end, child, length * rng.uniform(0.75, 1.0), depth - 1, rng)


def _draw_variant(size: int, k: int) -> Image.Image:
    rng = np.random.default_rng([BANK_SEED, k])
    cv, an = Canvas(size), Anatomy()
    segments: list = []
    for side in ("right", "left"):
        hx, hy = an.hilum(side)
        base = np.pi if side == "right" else 0.0
        for j in range(TRUNKS):
            angle = base + SIGN[side] * (-1.35 + 0.45 * j + rng.uniform(-0.15, 0.15))
            _branch(segments, (hx, hy), angle, 0.06 + rng.uniform(0, 0.03), DEPTH, rng)
    draw = cv.draw(LAYER)
    for start, end, depth in segments:
        draw.line(cv.pts(np.array([start, end])), fill=30 + 50 * depth,
                  width=cv.width(0.0025 * depth + 0.0015))
    return cv.image(LAYER)


@lru_cache(maxsize=4)
def vessel_bank(size: int) -> tuple[Image.Image, ...]:
    """The seeded variants for canvases of ``size`` pixels."""
    return tuple(_draw_variant(size, k) for k in range(VARIANTS))


def draw_vessels(cv: Canvas, an: Anatomy, rng: np.random.Generator) -> None:
    """Paste one vessel-tree variant, shifted to this study's midline."""
    variant = vessel_bank(cv.size)[int(rng.integers(VARIANTS))]
    cv.put(LAYER, variant, (int(round(cv.px(an.mid - Anatomy().mid))), 0))
