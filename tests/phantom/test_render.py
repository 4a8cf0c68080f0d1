"""Rendering: determinism, and every finding visible where it belongs after downscaling to 224."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from echo_cxr.phantom import PhantomConfig, generate_study

DOWNSCALED = 224
VISIBLE_STEP = 6 / 255  # a change a reader can see on an 8-bit display
MIN_VISIBLE_PIXELS = 12  # at 224 x 224
MIN_SHARE_INSIDE = 0.9  # of the total absolute change

# (label, expected region as (x0, x1, y0, y1) in image fractions; patient's right = image left)
CASES = [
    ({"finding": "cardiomegaly", "severity": "mild"}, (0.3, 0.95, 0.35, 0.85)),
    ({"finding": "pleural_effusion", "laterality": "left", "severity": "small"},
     (0.6, 1.0, 0.55, 0.9)),
    ({"finding": "pleural_effusion", "laterality": "right", "severity": "small"},
     (0.0, 0.4, 0.55, 0.9)),
    ({"finding": "pneumothorax", "laterality": "right", "severity": "small"}, (0.0, 0.5, 0.0, 0.8)),
    ({"finding": "consolidation", "zone": "right_upper"}, (0.1, 0.45, 0.1, 0.45)),
    ({"finding": "consolidation", "zone": "left_lower"}, (0.6, 0.95, 0.4, 0.75)),
    ({"finding": "nodule", "zone": "left_upper", "size": "small"}, (0.55, 0.85, 0.15, 0.4)),
    ({"finding": "nodule", "zone": "right_middle", "size": "small"}, (0.15, 0.45, 0.35, 0.6)),
    ({"finding": "atelectasis", "laterality": "right"}, (0.05, 0.45, 0.45, 0.75)),
    ({"finding": "pulmonary_edema", "severity": "mild"}, (0.1, 0.9, 0.15, 0.8)),
    ({"finding": "hilar_enlargement", "laterality": "left"}, (0.5, 0.7, 0.33, 0.55)),
    ({"finding": "tracheal_deviation", "laterality": "right"}, (0.35, 0.6, 0.0, 0.4)),
    ({"finding": "rib_fracture", "laterality": "left"}, (0.5, 1.0, 0.25, 0.7)),
    ({"finding": "elevated_hemidiaphragm", "laterality": "left"}, (0.5, 1.0, 0.5, 0.9)),
    ({"finding": "endotracheal_tube"}, (0.4, 0.6, 0.0, 0.35)),
    ({"finding": "nasogastric_tube"}, (0.4, 0.8, 0.0, 0.9)),
    ({"finding": "central_venous_catheter", "laterality": "left"}, (0.35, 0.9, 0.0, 0.5)),
    ({"finding": "central_venous_catheter", "laterality": "right"}, (0.1, 0.6, 0.0, 0.5)),
    ({"finding": "pacemaker", "laterality": "right"}, (0.15, 0.6, 0.1, 0.7)),
    ({"finding": "pacemaker", "laterality": "left"}, (0.4, 0.85, 0.1, 0.7)),
]


def _at_224(picture: np.ndarray) -> np.ndarray:
    values = (np.clip(picture, 0, 1) * 255 + 0.5).astype(np.uint8)
    small = Image.fromarray(values).resize((DOWNSCALED, DOWNSCALED), Image.Resampling.BILINEAR)
    return np.asarray(small, dtype=np.float64) / 255


def _diff(label, config, seed=5, index=0) -> np.ndarray:
    base = generate_study(seed, index, config, labels=[]).views["frontal"]
    with_it = generate_study(seed, index, config, labels=[label]).views["frontal"]
    return np.abs(_at_224(with_it) - _at_224(base))


@pytest.mark.parametrize("label, box", CASES, ids=[
    f"{c[0]['finding']}-{'-'.join(list(c[0].values())[1:])}" for c in CASES])
def test_finding_changes_its_region_at_224(label, box, plain_config):
    for index in range(2):
        diff = _diff(label, plain_config, index=index)
        x0, x1, y0, y1 = (int(round(v * DOWNSCALED)) for v in box)
        inside = np.zeros_like(diff, dtype=bool)
        inside[y0:y1, x0:x1] = True
        assert (diff[inside] >= VISIBLE_STEP).sum() >= MIN_VISIBLE_PIXELS, label
        assert diff[inside].sum() >= MIN_SHARE_INSIDE * diff.sum(), label


@pytest.mark.parametrize("label, box", CASES)
def test_findings_stay_visible_under_nuisance(label, box):
    diff = _diff(label, PhantomConfig(lateral_prob=0.0), seed=8)
    assert (diff >= VISIBLE_STEP).sum() >= MIN_VISIBLE_PIXELS, label


def test_severity_grades_change_the_picture_more(plain_config):
    def changed(label):
        return (_diff(label, plain_config) >= VISIBLE_STEP).sum()
    sizes = [changed({"finding": "pleural_effusion", "laterality": "right", "severity": s})
             for s in ("small", "moderate", "large")]
    assert sizes[0] < sizes[1] < sizes[2]
    hearts = [changed({"finding": "cardiomegaly", "severity": s})
              for s in ("mild", "moderate", "marked")]
    assert hearts[0] < hearts[1] < hearts[2]


def test_same_seed_same_pixels_different_seed_different_study():
    config = PhantomConfig(image_size=256, lateral_prob=1.0)
    a, b = generate_study(42, 7, config), generate_study(42, 7, config)
    assert a.labels == b.labels and a.reports == b.reports
    for view in ("frontal", "lateral"):
        assert a.views[view].tobytes() == b.views[view].tobytes()
    c = generate_study(43, 7, config)
    assert np.abs(c.views["frontal"] - a.views["frontal"]).mean() > 0.005
    different = sum(generate_study(42, i, config, render=False).reports["en"].text
                    != generate_study(43, i, config, render=False).reports["en"].text
                    for i in range(20))
    assert different >= 18


def test_views_shape_range_and_lateral_probability():
    config = PhantomConfig(image_size=160, lateral_prob=0.5)
    views = [generate_study(1, i, config).views for i in range(40)]
    for v in views:
        assert v["frontal"].shape == (160, 160) and v["frontal"].dtype == np.float32
        assert 0.0 <= v["frontal"].min() and v["frontal"].max() <= 1.0
    lateral = sum("lateral" in v for v in views)
    assert 8 <= lateral <= 32
    none = [generate_study(1, i, PhantomConfig(image_size=160, lateral_prob=0.0)).views
            for i in range(10)]
    assert all(list(v) == ["frontal"] for v in none)


def test_lateral_view_shows_effusion_and_heart_size():
    config = PhantomConfig(image_size=256, lateral_prob=1.0, nuisance=0.0)

    def lateral(labels):
        return generate_study(3, 0, config, labels=labels).views["lateral"]
    base = lateral([])
    effusion = lateral([{"finding": "pleural_effusion", "laterality": "bilateral",
                         "severity": "moderate"}])
    heart = lateral([{"finding": "cardiomegaly", "severity": "marked"}])
    lower_back = (slice(150, 220), slice(130, 240))  # posterior costophrenic sulcus
    assert np.abs(effusion - base)[lower_back].mean() > 0.02
    assert np.abs(heart - base).max() > 0.1
