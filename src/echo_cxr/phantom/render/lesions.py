"""Frontal-view renderers of the pathological findings, looked up by finding name.

Each renderer draws one label into the canvas (``fill`` = opacity that replaces lung air inside
the lungs, ``soft`` = soft-tissue density anywhere, ``ptx`` = pure air without lung markings,
``bone``) and may return an extra fill field (R, R) for smooth opacities (edema). Sizes are
chosen so every finding is still plainly visible after downscaling to 224 x 224. Findings that
only change anatomy (cardiomegaly, elevated hemidiaphragm, tracheal deviation) are handled in
``anatomy.apply_findings`` and have no renderer here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from echo_cxr.phantom.render.anatomy import (
    SIGN, Anatomy, lateral_offset, lung_outline, posterior_rib, rib_width, zone_centre)
from echo_cxr.phantom.render.canvas import Canvas, grid
from echo_cxr.phantom.render.frontal import rib_shade

Label = Mapping[str, str]
Renderer = Callable[[Canvas, Anatomy, Label, np.random.Generator], "np.ndarray | None"]

# Effusion: height of the fluid surface above the costophrenic angle, and its lateral rise.
EFFUSION_LEVEL = {"small": 0.095, "moderate": 0.16, "large": 0.3}
EFFUSION_RISE = {"small": 0.045, "moderate": 0.05, "large": 0.08}
PTX_KEEP = {"small": 0.8, "large": 0.55}  # collapsed lung size relative to the hemithorax
PTX_COLLAPSED_FILL = {"small": 0, "large": 110}
NODULE_RADIUS = {"small": 0.021, "large": 0.042}
EDEMA_AMPLITUDE = {"mild": 0.38, "moderate": 0.65}
EDEMA_SPREAD = (0.15, 0.2)  # (x, y) Gaussian widths of the perihilar haze
FRACTURED_RIBS = (4, 5, 6)
FRACTURE_AT = 0.62  # fraction along the posterior rib
FRACTURE_GAP, FRACTURE_STEP = 0.018, 1.0  # lucent gap (canonical), step-off (rib widths)
FRACTURE_ANGLE = 0.3  # radians the outer fragment turns


def _sides(label: Label) -> tuple[str, ...]:
    side = label["laterality"]
    return ("right", "left") if side == "bilateral" else (side,)


def pleural_effusion(cv: Canvas, an: Anatomy, label: Label, rng: np.random.Generator) -> None:
    """Dependent fluid with a meniscus rising along the lateral chest wall; blunts the angle."""
    sev = label["severity"]
    for side in _sides(label):
        s = SIGN[side]
        lat = float(lateral_offset(an, side, np.array(an.cp(side)))) + 0.05
        offs = np.linspace(0.0, lat, 16)
        level = an.cp(side) - EFFUSION_LEVEL[sev] * rng.uniform(0.92, 1.08)
        top = level - EFFUSION_RISE[sev] * (offs / lat) ** 2
        curve = np.stack([an.mid + s * offs, top], axis=1)
        bottom = np.array([[an.mid + s * lat, 1.1], [an.mid, 1.1]])
        cv.polygon("fill", np.vstack([curve, bottom]), 255)


def pneumothorax(cv: Canvas, an: Anatomy, label: Label, rng: np.random.Generator) -> None:
    """Air between chest wall and a collapsed lung, with a thin visceral pleural line."""
    side, sev = label["laterality"], label["severity"]
    outline, pleural = lung_outline(an, side)
    anchor = np.array([an.x(side, 0.09), an.dome(side)])
    keep = PTX_KEEP[sev] * rng.uniform(0.97, 1.03)
    collapsed = anchor + (outline - anchor) * keep
    cv.polygon("ptx", outline, 255)
    cv.polygon("ptx", collapsed, 0)
    if PTX_COLLAPSED_FILL[sev]:
        cv.polygon("fill", collapsed, PTX_COLLAPSED_FILL[sev])
    cv.line("soft", collapsed[pleural], 0.005, 230)


def consolidation(cv: Canvas, an: Anatomy, label: Label, rng: np.random.Generator) -> None:
    """Confluent fluffy opacity in one zone with dark air bronchograms."""
    cx, cy = zone_centre(an, label["zone"])
    for _ in range(int(rng.integers(9, 13))):
        ox, oy = rng.normal(0.0, 0.03, 2)
        r = rng.uniform(0.035, 0.055)
        cv.ellipse("haze", cx + ox, cy + oy, r, r * rng.uniform(0.75, 1.0), 255)
    for _ in range(4):
        ox, oy = rng.normal(0.0, 0.025, 2)
        cv.ellipse("fill", cx + ox, cy + oy, 0.022, 0.018, int(rng.integers(120, 200)))
    side = label["zone"].split("_")[0]
    start = np.array([cx - SIGN[side] * 0.035, cy + rng.uniform(-0.01, 0.01)])
    mid = start + np.array([SIGN[side] * 0.035, rng.uniform(-0.015, 0.015)])
    for turn in (-0.02, 0.02):
        end = mid + np.array([SIGN[side] * 0.03, turn])
        cv.line("haze", np.vstack([start, mid, end]), 0.006, 150)


def nodule(cv: Canvas, an: Anatomy, label: Label, rng: np.random.Generator) -> None:
    """Round well-defined opacity (small) or a lobulated mass (large)."""
    cx, cy = zone_centre(an, label["zone"])
    cx, cy = cx + rng.uniform(-0.02, 0.02), cy + rng.uniform(-0.02, 0.02)
    radius = NODULE_RADIUS[label["size"]] * rng.uniform(0.9, 1.1)
    cv.ellipse("fill", cx, cy, radius, radius, 255)
    if label["size"] == "large":
        for angle in rng.uniform(0, 2 * np.pi, 3):
            bx, by = cx + 0.6 * radius * np.cos(angle), cy + 0.6 * radius * np.sin(angle)
            cv.ellipse("fill", bx, by, 0.65 * radius, 0.65 * radius, 255)


def atelectasis(cv: Canvas, an: Anatomy, label: Label, rng: np.random.Generator) -> None:
    """Plate-like (discoid) bands over a hazy, slightly collapsed base."""
    side = label["laterality"]
    s = SIGN[side]
    base_y = an.dome(side) - 0.02
    wedge = np.array([[an.mid + s * 0.2, base_y - 0.1], [an.mid + s * 0.36, base_y - 0.03],
                      [an.mid + s * 0.36, base_y + 0.04], [an.mid + s * 0.16, base_y + 0.04]])
    cv.polygon("haze", wedge, 150)
    for k in range(2):
        y = base_y - 0.03 - 0.035 * k + rng.uniform(-0.006, 0.006)
        x0, x1 = 0.18 + rng.uniform(0, 0.02), 0.36
        tilt = rng.uniform(0.005, 0.02)
        band = np.array([[an.mid + s * x0, y - tilt], [an.mid + s * x1, y + tilt]])
        cv.line("fill", band, 0.016, 255)


def pulmonary_edema(cv: Canvas, an: Anatomy, label: Label, rng: np.random.Generator
                    ) -> np.ndarray:
    """Bilateral perihilar (bat-wing) haze; Kerley B lines at the bases when moderate."""
    x, y = grid(cv.size)
    haze = np.zeros((cv.size, cv.size), dtype=np.float32)
    sx, sy = EDEMA_SPREAD
    for side in ("right", "left"):
        hx, hy = an.hilum(side)
        hx += SIGN[side] * 0.05
        haze += np.exp(-(((x - hx) / sx) ** 2 + ((y - hy) / sy) ** 2))
    if label["severity"] == "moderate":
        for side in ("right", "left"):
            for k in range(5):
                yk = an.dome(side) - 0.02 - 0.022 * k
                wall = float(lateral_offset(an, side, np.array(yk)))
                line = np.array([[an.x(side, wall), yk], [an.x(side, wall - 0.045), yk]])
                cv.line("fill", line, 0.004, 200)
    return haze * np.float32(EDEMA_AMPLITUDE[label["severity"]] * rng.uniform(0.9, 1.1))


def hilar_enlargement(cv: Canvas, an: Anatomy, label: Label, rng: np.random.Generator) -> None:
    """Lobulated enlarged hilar shadow(s)."""
    for side in _sides(label):
        hx, hy = an.hilum(side)
        hx += SIGN[side] * 0.018
        for _ in range(4):
            ox, oy = rng.uniform(-0.018, 0.018), rng.uniform(-0.035, 0.035)
            r = rng.uniform(0.03, 0.038)
            cv.ellipse("soft", hx + ox, hy + oy, r, r, 235)


def rib_fracture(cv: Canvas, an: Anatomy, label: Label, rng: np.random.Generator) -> None:
    """A posterior rib broken in the lung field: a lucent gap, then the outer fragment stepped
    down and angled against the parallel neighbouring ribs."""
    side = label["laterality"]
    i = int(FRACTURED_RIBS[rng.integers(len(FRACTURED_RIBS))])
    rib, width = posterior_rib(an, side, i), rib_width(i)
    cut = int(FRACTURE_AT * len(rib))
    cv.line("bone", rib[cut - 1:], width * 1.3, 0)  # erase the outer part
    outer = rib[cut + 1:] - rib[cut + 1]
    angle = SIGN[side] * FRACTURE_ANGLE  # lateral end swings down on either side
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    start = rib[cut + 1] + np.array([SIGN[side] * FRACTURE_GAP, FRACTURE_STEP * width])
    cv.band("bone", outer @ rot.T + start, width, *rib_shade(i))
    # extrapleural haematoma: a lens of soft tissue against the chest wall at the break
    y = float(rib[cut, 1]) + 0.02
    wall = float(lateral_offset(an, side, np.array(y)))
    cv.ellipse("fill", an.x(side, wall - 0.012), y, 0.022, 0.055, 200)


LESIONS: dict[str, Renderer] = {
    "pleural_effusion": pleural_effusion,
    "pneumothorax": pneumothorax,
    "consolidation": consolidation,
    "nodule": nodule,
    "atelectasis": atelectasis,
    "pulmonary_edema": pulmonary_edema,
    "hilar_enlargement": hilar_enlargement,
    "rib_fracture": rib_fracture,
}
