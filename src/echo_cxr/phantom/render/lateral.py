"""Lateral view: the same study seen from the side (anterior = image left).

Simpler than the frontal view but consistent with it: lungs overlap into one air space over the
heart (anterior, lower), trachea, hila, spine (posterior), sternum and both hemidiaphragms.
Findings that show on a lateral film are drawn too: fluid in the posterior costophrenic sulcus,
a bigger heart, zone opacities at their lobar depth, edema haze, hilar masses, an elevated
hemidiaphragm, and the devices. Pneumothorax, rib fractures and tracheal deviation are frontal
signs and are not drawn here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from echo_cxr.phantom.render.anatomy import HEART_SCALE
from echo_cxr.phantom.render.canvas import Canvas, catmull_rom, grid
from echo_cxr.phantom.render.frontal import LUNG_AIR, TRACHEA_AIR

Label = Mapping[str, str]
HEART_AIR = 35
DOME_PEAK_Y = 0.62
POSTERIOR_SULCUS = (0.86, 0.8)
ANTERIOR_SULCUS = (0.17, 0.67)
HEART_BACK = 0.5  # posterior heart border, normal size
HILUM = (0.53, 0.43)
ZONE_DEPTH = {"upper": (0.55, 0.28), "middle": (0.3, 0.38), "lower": (0.68, 0.62)}
EFFUSION_HEIGHT = {"small": 0.05, "moderate": 0.13, "large": 0.26}
ELEVATION = 0.08


def _dome(lift: float = 0.0) -> np.ndarray:
    key = [ANTERIOR_SULCUS, (0.32, DOME_PEAK_Y + 0.01), (0.48, DOME_PEAK_Y),
           (0.7, DOME_PEAK_Y + 0.06), POSTERIOR_SULCUS]
    return catmull_rom([(x, y - lift * (0.3 + 0.7 * np.sin(np.pi * i / 4)))
                        for i, (x, y) in enumerate(key)])


def lateral_heart(scale: float) -> np.ndarray:
    """Heart seen from the side: behind the lower sternum, on the diaphragm, growing backwards."""
    back = HEART_BACK + 0.16 * (scale - 1)
    key = [(0.31, 0.42), (0.2, 0.47), (0.15, 0.57), (0.15, 0.72), (0.45, 0.7),
           (back, 0.62), (back - 0.01, 0.52), (0.42, 0.44 - 0.04 * (scale - 1))]
    return catmull_rom(key, closed=True)


def draw_lateral_anatomy(cv: Canvas, heart_scale: float, rng: np.random.Generator) -> None:
    """Body, lungs, heart, airway, spine, sternum, ribs and the normal hilum."""
    body = [(0.38, -0.15), (0.3, 0.05), (0.12, 0.16), (0.09, 0.45), (0.11, 0.8), (0.15, 1.15),
            (0.93, 1.15), (0.95, 0.6), (0.93, 0.25), (0.8, 0.05), (0.66, -0.15)]
    cv.polygon("body", np.array(body), 255)
    lung = [(0.55, 0.1), (0.33, 0.16), (0.2, 0.3), (0.16, 0.48), ANTERIOR_SULCUS]
    back = [POSTERIOR_SULCUS, (0.87, 0.55), (0.83, 0.3), (0.7, 0.14)]
    outline = np.vstack([catmull_rom(lung), _dome()[1:], catmull_rom(back)[1:]])
    cv.polygon("air", outline, LUNG_AIR)
    cv.polygon("lung", outline, 255)
    heart = lateral_heart(heart_scale)
    cv.polygon("air", heart, HEART_AIR)
    cv.polygon("lung", heart, 0)
    cv.line("air", np.array([[0.47, -0.15], [0.53, HILUM[1] - 0.05]]), 0.028, TRACHEA_AIR)
    cv.ellipse("air", 0.32, 0.72, 0.05, 0.025, 180)
    cv.ellipse("soft", *HILUM, 0.035, 0.04, 90)
    spine_x = 0.82
    for k in range(26):
        y = -0.12 + k * 0.047
        x = spine_x + 0.03 * np.sin(np.pi * (y + 0.1) / 1.2)
        cv.draw("bone").rectangle(cv.box(x, y, 0.04, 0.018), fill=150)
    cv.line("bone", catmull_rom([(0.17, 0.2), (0.145, 0.38), (0.15, 0.56)]), 0.022, 150)
    for k in range(9):
        y = 0.18 + 0.06 * k + rng.uniform(-0.005, 0.005)
        cv.line("bone", catmull_rom([(0.86, y), (0.6, y + 0.02), (0.3, y + 0.09)]), 0.012, 55)


def _effusion(cv: Canvas, label: Label, rng: np.random.Generator) -> None:
    height = EFFUSION_HEIGHT[label["severity"]] * (1.5 if label["laterality"] == "bilateral" else 1)
    top = POSTERIOR_SULCUS[1] - height
    xs = np.linspace(0.2, 0.95, 12)
    curve = np.stack([xs, top + 0.06 * ((0.95 - xs) / 0.75) ** 2 - 0.02 * rng.random()], axis=1)
    cv.polygon("fill", np.vstack([curve, [[0.95, 1.1], [0.2, 1.1]]]), 255)


def _zone_blob(cv: Canvas, label: Label, rng: np.random.Generator) -> None:
    cx, cy = ZONE_DEPTH[label["zone"].split("_")[1]]
    if label["finding"] == "nodule":
        r = 0.022 if label["size"] == "small" else 0.045
        cv.ellipse("fill", cx, cy, r, r, 255)
        return
    for _ in range(7):
        ox, oy = rng.normal(0, 0.03, 2)
        cv.ellipse("fill", cx + ox, cy + oy, 0.04, 0.035, int(rng.integers(190, 250)))


def _atelectasis(cv: Canvas, label: Label, rng: np.random.Generator) -> None:
    y = DOME_PEAK_Y - 0.04
    cv.line("fill", np.array([[0.45, y], [0.78, y + 0.03]]), 0.011, 255)


def _hilar(cv: Canvas, label: Label, rng: np.random.Generator) -> None:
    for _ in range(3):
        cv.ellipse("soft", HILUM[0] + rng.uniform(-0.02, 0.02), HILUM[1] + rng.uniform(-0.03, 0.03),
                   0.04, 0.04, 230)


def _elevated(cv: Canvas, label: Label, rng: np.random.Generator) -> None:
    cv.line("soft", _dome(ELEVATION), 0.012, 200)


def _devices(cv: Canvas, label: Label, rng: np.random.Generator) -> None:
    name = label["finding"]
    if name == "endotracheal_tube":
        cv.line("metal", np.array([[0.44, -0.15], [0.51, 0.3]]), 0.005, 255)
    elif name == "nasogastric_tube":
        key = [(0.5, -0.15), (0.6, 0.3), (0.6, 0.6), (0.45, 0.72), (0.3, 0.76)]
        cv.line("metal", catmull_rom(key), 0.0065, 235)
    elif name == "central_venous_catheter":
        cv.line("metal", catmull_rom([(0.42, -0.1), (0.4, 0.2), (0.4, 0.42)]), 0.0065, 225)
    elif name == "pacemaker":
        cv.draw("metal").rounded_rectangle(cv.box(0.17, 0.2, 0.025, 0.04), radius=cv.px(0.01),
                                           fill=255)
        for end in ((0.3, 0.5), (0.22, 0.64)):
            lead = catmull_rom([(0.18, 0.2), (0.35, 0.22), (0.4, 0.42), end])
            cv.line("metal", lead, 0.0055, 240)


def _edema(cv: Canvas, label: Label, rng: np.random.Generator) -> np.ndarray:
    x, y = grid(cv.size)
    amp = 0.38 if label["severity"] == "mild" else 0.65
    return (amp * np.exp(-(((x - HILUM[0]) / 0.2) ** 2 + ((y - HILUM[1]) / 0.18) ** 2))
            ).astype(np.float32)


LATERAL: dict[str, Callable[[Canvas, Label, np.random.Generator], "np.ndarray | None"]] = {
    "pleural_effusion": _effusion, "consolidation": _zone_blob, "nodule": _zone_blob,
    "atelectasis": _atelectasis, "hilar_enlargement": _hilar, "elevated_hemidiaphragm": _elevated,
    "pulmonary_edema": _edema, "endotracheal_tube": _devices, "nasogastric_tube": _devices,
    "central_venous_catheter": _devices, "pacemaker": _devices,
}


def lateral_heart_scale(labels: Sequence[Label], base: float) -> float:
    for label in labels:
        if label["finding"] == "cardiomegaly":
            return base * HEART_SCALE[label["severity"]]
    return base
