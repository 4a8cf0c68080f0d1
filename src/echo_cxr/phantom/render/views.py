"""Rendering the views of one study from its labels and its random streams.

The anatomy, the vessel trees and the nuisance come from streams that depend only on
(seed, index), and every finding has its own stream: the same study rendered with and without a
finding differs only where that finding is drawn (this is what the per-finding tests check).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from echo_cxr.phantom.config import PhantomConfig
from echo_cxr.phantom.render.anatomy import apply_findings, sample_anatomy
from echo_cxr.phantom.render.canvas import Canvas
from echo_cxr.phantom.render.compose import render_canvas, sample_nuisance
from echo_cxr.phantom.render.devices import DEVICES
from echo_cxr.phantom.render.frontal import draw_frontal_anatomy
from echo_cxr.phantom.render.lateral import LATERAL, draw_lateral_anatomy, lateral_heart_scale
from echo_cxr.phantom.render.lesions import LESIONS
from echo_cxr.phantom.streams import Stream, finding_stream, stream

Label = Mapping[str, str]
LATERAL_MID = 0.5


def _sum_fill(fields: list[np.ndarray | None]) -> np.ndarray | None:
    kept = [f for f in fields if f is not None]
    return sum(kept[1:], kept[0]) if kept else None


def render_frontal(labels: Sequence[Label], seed: int, index: int, config: PhantomConfig
                   ) -> np.ndarray:
    """Frontal (PA) view of a study. (S, S) float32 in [0, 1], 1 = dense (white)."""
    rng = stream(seed, index, Stream.ANATOMY)
    anatomy = apply_findings(sample_anatomy(rng), labels)
    canvas = Canvas(config.work_size)
    draw_frontal_anatomy(canvas, anatomy, rng)
    extra = []
    for label in labels:
        name = label["finding"]
        frng = finding_stream(seed, index, name)
        if name in LESIONS:
            extra.append(LESIONS[name](canvas, anatomy, label, frng))
        elif name in DEVICES:
            DEVICES[name](canvas, anatomy, label, frng)
    nuisance = sample_nuisance(stream(seed, index, Stream.NUISANCE), config.nuisance)
    return render_canvas(canvas, anatomy.mid, nuisance, config.image_size, _sum_fill(extra))


def render_lateral(labels: Sequence[Label], seed: int, index: int, config: PhantomConfig
                   ) -> np.ndarray:
    """Lateral view of a study. (S, S) float32 in [0, 1]"""
    rng = stream(seed, index, Stream.LATERAL)
    base_heart = sample_anatomy(stream(seed, index, Stream.ANATOMY)).heart_scale
    canvas = Canvas(config.work_size)
    draw_lateral_anatomy(canvas, lateral_heart_scale(labels, base_heart), rng)
    extra = []
    for label in labels:
        if label["finding"] in LATERAL:
            frng = finding_stream(seed, index, label["finding"], lateral=True)
            extra.append(LATERAL[label["finding"]](canvas, label, frng))
    nuisance = sample_nuisance(stream(seed, index, Stream.LATERAL_NUISANCE), config.nuisance)
    return render_canvas(canvas, LATERAL_MID, nuisance, config.image_size, _sum_fill(extra))


def render_views(labels: Sequence[Label], seed: int, index: int, config: PhantomConfig
                 ) -> dict[str, np.ndarray]:
    """All views of a study: always "frontal", "lateral" with probability ``lateral_prob``."""
    views = {"frontal": render_frontal(labels, seed, index, config)}
    if stream(seed, index, Stream.VIEWS).random() < config.lateral_prob:
        views["lateral"] = render_lateral(labels, seed, index, config)
    return views
