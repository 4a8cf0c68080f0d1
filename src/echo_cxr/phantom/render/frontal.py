"""Normal frontal (PA) anatomy drawn into canvas layers.

Layers (8-bit, additive in ``compose``): ``body`` soft tissue, ``air`` (lungs 215, pure air 255,
trachea and gastric bubble), ``lung`` (mask of aerated lung, where lung opacities can show),
``bone`` (spine, ribs, clavicles, scapulae, humeral heads),
``vessel`` (pulmonary vessel trees, shown only inside the lungs), ``soft`` (hila and other
soft-tissue density outside the air mask).
"""

from __future__ import annotations

import numpy as np

from echo_cxr.phantom.render.anatomy import (
    SIGN, Anatomy, anterior_ribs, heart_outline, lung_outline, mediastinum_outline,
    posterior_ribs, rib_width, trachea_path)
from echo_cxr.phantom.render.canvas import Canvas, bezier, catmull_rom
from echo_cxr.phantom.render.vessels import draw_vessels

RIB_EDGE, RIB_CORE = 195, 105  # posterior rib cortex and medulla (first rib)
RIB_FADE = 0.045  # lower ribs show less (more soft tissue over them), per rib


def rib_shade(i: int) -> tuple[int, int]:
    """(cortex, medulla) values of posterior rib ``i``."""
    fade = 1.0 - RIB_FADE * i
    return int(RIB_EDGE * fade), int(RIB_CORE * fade)
LUNG_AIR = 215  # aerated lung; a pneumothorax is pure air (255)
HEART_AIR = 40  # lung behind the heart shows faintly through it
TRACHEA_AIR = 135
BRONCHUS_AIR = 105
BUBBLE_AIR = 190
TRACHEA_WIDTH = 0.032
BRONCHUS_WIDTH = 0.02
SIDES = ("right", "left")


def body_outline(an: Anatomy) -> np.ndarray:
    """Skin outline: neck, shoulders, chest wall and flanks. (N, 2)"""
    wall = an.half_width + 0.065
    half = [(0.085, -0.15), (0.095, 0.03), (0.2, 0.075), (0.36, 0.085), (0.5, 0.12),
            (0.58, 0.2), (wall + 0.01, 0.34), (wall, 0.55), (wall - 0.005, 0.8),
            (wall - 0.01, 1.15)]
    right = [(an.mid - dx, y) for dx, y in half]
    left = [(an.mid + dx, y) for dx, y in reversed(half)]
    return np.array(right + left)


def draw_body(cv: Canvas, an: Anatomy) -> None:
    cv.polygon("body", body_outline(an), 255)


def draw_air(cv: Canvas, an: Anatomy) -> None:
    """Lungs, then the mediastinum and heart over them, then airways and the gastric bubble."""
    heart, mediastinum = heart_outline(an), mediastinum_outline(an)
    for side in SIDES:
        outline = lung_outline(an, side)[0]
        cv.polygon("air", outline, LUNG_AIR)
        cv.polygon("lung", outline, 255)
    for layer, heart_value in (("air", HEART_AIR), ("lung", 0)):
        cv.polygon(layer, mediastinum, 0)
        cv.polygon(layer, heart, heart_value)
    cv.line("air", trachea_path(an), TRACHEA_WIDTH, TRACHEA_AIR)
    carina = np.array([an.mid, an.carina_y])
    for side, drop in (("right", 0.055), ("left", 0.07)):
        end = np.array([an.x(side, 0.072), an.carina_y + drop])
        cv.line("air", np.vstack([carina, end]), BRONCHUS_WIDTH, BRONCHUS_AIR)
    if an.gastric_bubble:
        cv.ellipse("air", an.x("left", 0.16), an.dome("left") + 0.075, 0.045, 0.024, BUBBLE_AIR)


def draw_bones(cv: Canvas, an: Anatomy) -> None:
    """Spine, anterior then posterior ribs, clavicles, scapular borders and humeral heads."""
    _draw_spine(cv, an)
    for side in SIDES:
        s = SIGN[side]
        cv.ellipse("bone", an.x(side, 0.5), 0.1, 0.06, 0.065, 120)
        scapula = catmull_rom([(an.mid + s * 0.42, 0.1), (an.mid + s * 0.33, 0.22),
                               (an.mid + s * 0.31, 0.36), (an.mid + s * 0.34, 0.43)])
        cv.line("bone", scapula, 0.012, 80)
        for i, rib in enumerate(anterior_ribs(an, side)):
            cv.band("bone", rib, rib_width(i) * 0.9, 80, 55)
        for i, rib in enumerate(posterior_ribs(an, side)):
            cv.band("bone", rib, rib_width(i), *rib_shade(i))
        clavicle = bezier((an.mid + s * 0.04, 0.178), (an.mid + s * 0.2, 0.172),
                          (an.mid + s * 0.37, 0.1))
        cv.band("bone", clavicle, 0.03, 255, 185)


def _draw_spine(cv: Canvas, an: Anatomy) -> None:
    height, gap = 0.037, 0.009
    y = -0.12
    while y < 1.12:
        cv.draw("bone").rectangle(cv.box(an.mid, y + height / 2, 0.034, height / 2), fill=85)
        for side in SIDES:
            cv.ellipse("bone", an.x(side, 0.022), y + 0.013, 0.007, 0.01, 130)
        y += height + gap


def draw_hila(cv: Canvas, an: Anatomy) -> None:
    """Normal hilar shadows (soft layer)."""
    for side in SIDES:
        hx, hy = an.hilum(side)
        cv.ellipse("soft", hx, hy, 0.026, 0.042, 120)


def draw_frontal_anatomy(cv: Canvas, an: Anatomy, rng: np.random.Generator) -> None:
    """Everything of a normal frontal chest radiograph."""
    draw_body(cv, an)
    draw_air(cv, an)
    draw_bones(cv, an)
    draw_hila(cv, an)
    draw_vessels(cv, an, rng)
