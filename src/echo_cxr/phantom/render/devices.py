"""Frontal-view renderers of support devices (radio-opaque, drawn into the ``metal`` layer).

Endotracheal tube down the trachea to a few centimetres above the carina; nasogastric tube
down the oesophagus, through the diaphragm, curling in the stomach; central venous catheter from
the internal jugular or subclavian vein of its side to the cavoatrial junction; pacemaker
generator below the clavicle of its side with leads to the right atrium and ventricle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from echo_cxr.phantom.render.anatomy import SIGN, Anatomy, trachea_path
from echo_cxr.phantom.render.canvas import Canvas, catmull_rom

Label = Mapping[str, str]
Renderer = Callable[[Canvas, Anatomy, Label, np.random.Generator], None]

TUBE_WIDTH = 0.011
STRIPE_WIDTH = 0.0045
LINE_WIDTH = 0.0065
LEAD_WIDTH = 0.0055
ETT_ABOVE_CARINA = 0.065
SVC_TIP = (-0.03, 0.43)  # cavoatrial junction, offset from the midline and height


def endotracheal_tube(cv: Canvas, an: Anatomy, label: Label, rng: np.random.Generator) -> None:
    tip = an.carina_y - ETT_ABOVE_CARINA * rng.uniform(0.8, 1.2)
    path = trachea_path(an, y_end=tip)
    cv.line("metal", path, TUBE_WIDTH, 75)
    cv.line("metal", path + np.array([0.003, 0.0]), STRIPE_WIDTH, 255)


def nasogastric_tube(cv: Canvas, an: Anatomy, label: Label, rng: np.random.Generator) -> None:
    dome = an.dome("left")
    key = [(0.012, -0.14), (0.016, 0.2), (0.022, 0.45), (0.035, dome + 0.02),
           (0.09, dome + 0.09), (0.16, dome + 0.1), (0.19, dome + 0.06 + rng.uniform(0, 0.02)),
           (0.15, dome + 0.045)]
    cv.line("metal", catmull_rom([(an.mid + dx, y) for dx, y in key]), LINE_WIDTH, 235)


def central_venous_catheter(cv: Canvas, an: Anatomy, label: Label, rng: np.random.Generator
                            ) -> None:
    s = SIGN[label["laterality"]]
    tip = (SVC_TIP[0], SVC_TIP[1] + rng.uniform(-0.02, 0.02))
    if rng.random() < 0.5:  # internal jugular
        key = [(s * 0.13, -0.14), (s * 0.1, 0.08), (s * 0.06, 0.2)]
    else:  # subclavian, passing under the clavicle
        key = [(s * 0.36, 0.14), (s * 0.22, 0.2), (s * 0.08, 0.235)]
    key += [(-0.045 if s > 0 else -0.05, 0.3), (-0.038, 0.36), tip]
    cv.line("metal", catmull_rom([(an.mid + dx, y) for dx, y in key]), LINE_WIDTH, 225)


def pacemaker(cv: Canvas, an: Anatomy, label: Label, rng: np.random.Generator) -> None:
    s = SIGN[label["laterality"]]
    gx, gy = an.mid + s * rng.uniform(0.23, 0.27), rng.uniform(0.2, 0.23)
    box = cv.box(gx, gy, 0.045, 0.032)
    cv.draw("metal").rounded_rectangle(box, radius=cv.px(0.014), fill=255)
    cv.draw("metal").rectangle(cv.box(gx, gy - 0.02, 0.025, 0.008), fill=170)
    right_heart = -an.heart_right * (1 + 0.6 * (an.heart_scale - 1))
    ventricle = (an.heart_left * an.heart_scale * 0.5, an.dome("left") - 0.005)
    common = [(gx - an.mid - s * 0.04, gy), (s * 0.13, 0.215), (-0.02 if s > 0 else -0.055, 0.27),
              (-0.042, 0.36)]
    atrium = common + [(right_heart * 0.55, 0.5), (right_heart * 0.6, 0.53)]
    vent = common + [(-0.03, 0.5), (ventricle[0] * 0.5, 0.58), ventricle]
    for lead in (atrium, vent):
        cv.line("metal", catmull_rom([(an.mid + dx, y) for dx, y in lead]), LEAD_WIDTH, 240)


DEVICES: dict[str, Renderer] = {
    "endotracheal_tube": endotracheal_tube,
    "nasogastric_tube": nasogastric_tube,
    "central_venous_catheter": central_venous_catheter,
    "pacemaker": pacemaker,
}
