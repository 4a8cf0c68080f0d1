"""Frontal (PA) chest anatomy of one study: landmarks, their normal variation, and the shapes
derived from them (lung fields, heart, mediastinum, trachea, ribs).

Radiological convention: the patient's RIGHT is on the image LEFT, so ``SIGN["right"] = -1``
(image x decreases). Offsets below are signed image-x distances from the midline ``mid``.
Findings that change anatomy (cardiomegaly, an elevated hemidiaphragm, tracheal deviation)
do so through ``apply_findings`` before anything is drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from echo_cxr.phantom.render.canvas import BEZIER_STEPS, catmull_rom

SIGN = {"right": -1.0, "left": 1.0}
HEART_SCALE = {"mild": 1.2, "moderate": 1.36, "marked": 1.52}  # CTR ~.54/.60/.67 (normal .46)
HEART_RIGHT_GROWTH = 0.6  # the right heart border moves less than the left when the heart grows
DIAPHRAGM_ELEVATION = 0.085  # about two posterior rib spaces
TRACHEA_SHIFT = 0.05  # about 1.5 tracheal widths
RIB_COUNT = 10
MEDIAL_LUNG = 0.052  # lung medial border offset from the midline
N_BORDER = 18  # points on the lateral lung border


@dataclass(frozen=True)
class Anatomy:
    """Landmarks of a frontal view, canonical coordinates."""

    mid: float = 0.5
    apex_y: float = 0.13
    half_width: float = 0.37  # lateral lung border offset at its widest
    dome_y: tuple[float, float] = (0.64, 0.665)  # (right, left) dome tops
    cp_y: tuple[float, float] = (0.75, 0.77)  # (right, left) costophrenic angle tips
    wall_y: tuple[float, float] = (0.75, 0.77)  # chest-wall reference: cp_y before findings
    heart_scale: float = 1.0
    heart_right: float = 0.092
    heart_left: float = 0.235
    carina_y: float = 0.36
    trachea_shift: float = 0.0
    rib_top: float = 0.105
    rib_spacing: float = 0.052
    gastric_bubble: bool = True

    def side_index(self, side: str) -> int:
        return 0 if side == "right" else 1

    def dome(self, side: str) -> float:
        return self.dome_y[self.side_index(side)]

    def cp(self, side: str) -> float:
        return self.cp_y[self.side_index(side)]

    def x(self, side: str, offset: float) -> float:
        """Image x of a point ``offset`` away from the midline towards ``side``."""
        return self.mid + SIGN[side] * offset

    def hilum(self, side: str) -> tuple[float, float]:
        return (self.x(side, 0.088), 0.45 if side == "right" else 0.435)


def sample_anatomy(rng: np.random.Generator) -> Anatomy:
    """Normal anatomical variation between studies (before nuisance pose/exposure)."""
    def jitter(span: float) -> float:
        return float(rng.uniform(-span, span))
    base = Anatomy()
    dome_shift = jitter(0.02)
    return replace(
        base,
        mid=base.mid + jitter(0.008),
        apex_y=base.apex_y + jitter(0.012),
        half_width=base.half_width + jitter(0.018),
        dome_y=(base.dome_y[0] + dome_shift + jitter(0.01),
                base.dome_y[1] + dome_shift + jitter(0.01)),
        cp_y=(base.cp_y[0] + dome_shift, base.cp_y[1] + dome_shift),
        wall_y=(base.cp_y[0] + dome_shift, base.cp_y[1] + dome_shift),
        heart_scale=1.0 + jitter(0.05),
        carina_y=base.carina_y + jitter(0.015),
        rib_top=base.rib_top + jitter(0.008),
        rib_spacing=base.rib_spacing + jitter(0.003),
        gastric_bubble=bool(rng.random() < 0.75),
    )


def apply_findings(anatomy: Anatomy, labels: Sequence[Mapping[str, str]]) -> Anatomy:
    """Anatomy changed by the findings that change anatomy."""
    for label in labels:
        name = label["finding"]
        if name == "cardiomegaly":
            scale = anatomy.heart_scale * HEART_SCALE[label["severity"]]
            anatomy = replace(anatomy, heart_scale=scale)
        elif name == "elevated_hemidiaphragm":
            i = anatomy.side_index(label["laterality"])
            domes, cps = list(anatomy.dome_y), list(anatomy.cp_y)
            domes[i] -= DIAPHRAGM_ELEVATION
            cps[i] -= DIAPHRAGM_ELEVATION
            anatomy = replace(anatomy, dome_y=tuple(domes), cp_y=tuple(cps))
        elif name == "tracheal_deviation":
            anatomy = replace(anatomy, trachea_shift=SIGN[label["laterality"]] * TRACHEA_SHIFT)
    return anatomy


def lateral_offset(an: Anatomy, side: str, y: np.ndarray) -> np.ndarray:
    """Offset of the lateral lung border from the midline at height ``y`` (the chest wall does
    not move when a hemidiaphragm rises)."""
    wall = an.wall_y[an.side_index(side)]
    t = np.clip((y - an.apex_y) / (wall - an.apex_y), 0.0, 1.0)
    bulge = 0.42 + 0.58 * np.sin(np.minimum(t / 0.62, 1.0) * np.pi / 2)
    return an.half_width * (bulge - 0.03 * np.clip((t - 0.75) / 0.25, 0.0, 1.0))


def dome_curve(an: Anatomy, side: str, offsets: np.ndarray) -> np.ndarray:
    """Height of the hemidiaphragm at lateral ``offsets`` (a sharp costophrenic angle laterally)."""
    lat = float(lateral_offset(an, side, np.array(an.cp(side))))
    peak = 0.45 * an.half_width
    outer = an.dome(side) + (an.cp(side) - an.dome(side)) * ((offsets - peak) / (lat - peak)) ** 2
    inner = an.dome(side) + 0.05 * np.clip((peak - offsets) / (peak - MEDIAL_LUNG), 0, 1) ** 1.5
    return np.where(offsets >= peak, outer, inner)


def lung_outline(an: Anatomy, side: str) -> tuple[np.ndarray, slice]:
    """Closed outline of one lung field, (N, 2), and the slice of its apical + lateral part."""
    s = SIGN[side]
    ys = np.linspace(an.apex_y + 0.012, an.cp(side), N_BORDER)
    lateral = np.stack([an.mid + s * lateral_offset(an, side, ys), ys], axis=1)
    apex_top = np.array([[an.mid + s * 0.1, an.apex_y - 0.004]])
    apex_medial = np.array([[an.mid + s * MEDIAL_LUNG, an.apex_y + 0.035]])
    offs = np.linspace(float(lateral_offset(an, side, np.array(an.cp(side)))), MEDIAL_LUNG, 14)
    dome = np.stack([an.mid + s * offs, dome_curve(an, side, offs)], axis=1)
    medial = np.array([[an.mid + s * MEDIAL_LUNG, 0.5]])
    outline = np.vstack([apex_medial, apex_top, lateral, dome[1:], medial])
    return outline, slice(1, 2 + N_BORDER)


def heart_outline(an: Anatomy) -> np.ndarray:
    """Closed smooth heart silhouette, (N, 2); grows mostly to the patient's left."""
    s = an.heart_scale
    right = an.heart_right * (1 + HEART_RIGHT_GROWTH * (s - 1))
    left = an.heart_left * s
    d_r, d_l = an.dome_y
    drop = 0.03 * (s - 1)
    key = [(-0.045, 0.425), (-right * 0.86, 0.5), (-right, 0.575), (-right * 0.9, d_r + 0.012),
           (0.0, max(d_r, d_l) + 0.03), (left * 0.72, d_l + 0.028 + drop),
           (left * 0.97, d_l + 0.002 + drop), (left, 0.59 + drop), (left * 0.78, 0.5),
           (0.088, 0.448), (0.06, 0.41)]
    pts = np.array([(an.mid + dx, y) for dx, y in key])
    return catmull_rom(pts, closed=True)


def mediastinum_outline(an: Anatomy) -> np.ndarray:
    """Upper mediastinum (great vessels, aortic knob on the patient's left). (N, 2)"""
    key = [(-0.058, -0.12), (-0.058, 0.2), (-0.063, 0.33), (-0.05, 0.45), (0.055, 0.45),
           (0.072, 0.4), (0.097, 0.335), (0.078, 0.29), (0.055, 0.2), (0.052, -0.12)]
    return np.array([(an.mid + dx, y) for dx, y in key])


def trachea_path(an: Anatomy, y_top: float = -0.12, y_end: float | None = None) -> np.ndarray:
    """Centre line of the trachea from the neck to ``y_end`` (default: the carina). (N, 2)"""
    y_end = an.carina_y if y_end is None else y_end
    ys = np.linspace(y_top, y_end, 16)
    peak = 0.12
    taper = np.where(ys <= peak, 1.0, 1.0 - ((ys - peak) / (an.carina_y - peak)) ** 2)
    return np.stack([an.mid + an.trachea_shift * np.clip(taper, 0, 1), ys], axis=1)


def zone_centre(an: Anatomy, zone: str) -> tuple[float, float]:
    """Centre of a lung zone such as 'right_lower' (upper/middle/lower thirds of the lung),
    kept lateral to the heart border on the left."""
    side, level = zone.split("_")
    height = an.dome(side) - an.apex_y
    y = an.apex_y + {"upper": 0.3, "middle": 0.62, "lower": 0.8}[level] * height
    offset = {"upper": 0.55, "middle": 0.44, "lower": 0.6}[level] * an.half_width
    if side == "left" and level == "lower":
        wall = float(lateral_offset(an, side, np.array(y)))
        offset = max(offset, 0.5 * (an.heart_left * an.heart_scale + wall))
    return an.x(side, offset), y


def rib_y(an: Anatomy, i: int | np.ndarray) -> float | np.ndarray:
    """Height at which posterior rib ``i`` (0 = first) leaves the spine."""
    return an.rib_top + np.asarray(i) * an.rib_spacing


def rib_width(i: int) -> float:
    return 0.016 + 0.0011 * i


def _beziers(p0: np.ndarray, p1: np.ndarray, p2: np.ndarray) -> np.ndarray:
    """Quadratic Bezier curves for K control triples, each (K, 2). (K, BEZIER_STEPS, 2)"""
    t = np.linspace(0.0, 1.0, BEZIER_STEPS)[None, :, None]
    return (1 - t) ** 2 * p0[:, None] + 2 * (1 - t) * t * p1[:, None] + t ** 2 * p2[:, None]


def posterior_ribs(an: Anatomy, side: str) -> np.ndarray:
    """All posterior ribs: from the spine, arching up then down to the chest wall. (K, N, 2)"""
    s, y0 = SIGN[side], rib_y(an, np.arange(RIB_COUNT))
    y_end = y0 + 0.085
    wall = lateral_offset(an, side, y_end) + 0.018
    p0 = np.stack([an.mid + s * 0.03 + 0 * y0, y0], axis=1)
    p1 = np.stack([an.mid + s * 0.27 + 0 * y0, y0 - 0.06], axis=1)
    p2 = np.stack([an.mid + s * wall, y_end], axis=1)
    return _beziers(p0, p1, p2)


def anterior_ribs(an: Anatomy, side: str) -> np.ndarray:
    """All anterior ribs: from the chest wall running down and medially. (K, N, 2)"""
    s, y0 = SIGN[side], rib_y(an, np.arange(RIB_COUNT - 2)) + 0.085
    wall = lateral_offset(an, side, y0) + 0.018
    p0 = np.stack([an.mid + s * wall, y0], axis=1)
    p1 = np.stack([an.mid + s * 0.25 + 0 * y0, y0 + 0.06], axis=1)
    p2 = np.stack([an.mid + s * 0.12 + 0 * y0, y0 + 0.13], axis=1)
    return _beziers(p0, p1, p2)


def posterior_rib(an: Anatomy, side: str, i: int) -> np.ndarray:
    """Posterior rib ``i``. (N, 2)"""
    return posterior_ribs(an, side)[i]
