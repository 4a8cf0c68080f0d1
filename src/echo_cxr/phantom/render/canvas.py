"""Drawing surface of one view: named 8-bit PIL layers in canonical coordinates, plus curve helpers.

Canonical coordinates: x from 0 (image left, the patient's RIGHT on a frontal view) to 1, y from
0 (top) to 1. The canvas covers [-MARGIN, 1 + MARGIN] on both axes so that the pose nuisance
(rotation, shift, zoom) never pulls empty canvas into the picture. Each layer is an independent
additive component (soft tissue, air, bone...); within a layer later strokes overwrite earlier
ones, which is how bone crossings and erasures (a rib fracture gap) are drawn cheaply in C.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

MARGIN = 0.08
FULL = 255
CATMULL_STEPS = 8  # points per Catmull-Rom segment
BEZIER_STEPS = 14
JOINT_MIN_WIDTH = 4  # rounded joints only where a polyline is wide enough to show corners


class Canvas:
    """Square canvas of ``size`` pixels holding lazily created 8-bit layers."""

    def __init__(self, size: int):
        self.size = size
        self.scale = size / (1.0 + 2.0 * MARGIN)
        self._layers: dict[str, Image.Image] = {}
        self._draws: dict[str, ImageDraw.ImageDraw] = {}

    def px(self, length: float) -> float:
        """A canonical length in pixels."""
        return length * self.scale

    def width(self, length: float) -> int:
        """A stroke width in whole pixels (at least 1)."""
        return max(1, int(round(length * self.scale)))

    def pts(self, points: np.ndarray) -> list[tuple[float, float]]:
        """(N, 2) canonical points -> PIL pixel tuples."""
        pix = (np.asarray(points, dtype=np.float64) + MARGIN) * self.scale
        return [tuple(p) for p in pix.tolist()]

    def box(self, cx: float, cy: float, rx: float, ry: float) -> list[float]:
        """Bounding box (pixels) of an ellipse with centre (cx, cy) and radii (rx, ry)."""
        (x0, y0), (x1, y1) = self.pts(np.array([[cx - rx, cy - ry], [cx + rx, cy + ry]]))
        return [x0, y0, x1, y1]

    def draw(self, layer: str) -> ImageDraw.ImageDraw:
        """The drawing handle of ``layer`` (created black on first use)."""
        if layer not in self._draws:
            self._layers[layer] = Image.new("L", (self.size, self.size), 0)
            self._draws[layer] = ImageDraw.Draw(self._layers[layer])
        return self._draws[layer]

    def image(self, layer: str) -> Image.Image:
        """The 8-bit PIL image of ``layer`` (created black on first use)."""
        self.draw(layer)
        return self._layers[layer]

    def has(self, layer: str) -> bool:
        return layer in self._layers

    def array(self, layer: str, blur_px: float = 0.0) -> np.ndarray:
        """Layer as float32 in [0, 1], optionally Gaussian-blurred (sigma in pixels). (R, R)"""
        if layer not in self._layers:
            return np.zeros((self.size, self.size), dtype=np.float32)
        image = self._layers[layer]
        if blur_px > 0:
            image = image.filter(ImageFilter.GaussianBlur(blur_px))
        return np.asarray(image, dtype=np.float32) * np.float32(1.0 / FULL)

    def arrays(self, layers: tuple[str, ...], blur_px: float) -> list[np.ndarray]:
        """Up to four layers blurred together (one RGBA pass), as float32 in [0, 1]. [(R, R)]"""
        present = [name for name in layers if name in self._layers]
        if len(present) <= 1:
            return [self.array(name, blur_px) for name in layers]
        blank = Image.new("L", (self.size, self.size), 0)
        bands = [self._layers.get(name, blank) for name in layers]
        bands += [blank] * (4 - len(bands))
        merged = Image.merge("RGBA", bands).filter(ImageFilter.GaussianBlur(blur_px))
        stacked = np.asarray(merged, dtype=np.float32) * np.float32(1.0 / FULL)
        return [stacked[:, :, k] for k in range(len(layers))]

    def smooth(self, layer: str, blur_px: float, factor: int = 4) -> np.ndarray:
        """A layer under a wide blur, computed at 1/``factor`` resolution. (R, R) float32"""
        if layer not in self._layers:
            return np.zeros((self.size, self.size), dtype=np.float32)
        small = self._layers[layer].reduce(factor)
        small = small.filter(ImageFilter.GaussianBlur(blur_px / factor))
        big = small.resize((self.size, self.size), Image.Resampling.BILINEAR)
        return np.asarray(big, dtype=np.float32) * np.float32(1.0 / FULL)

    def put(self, layer: str, image: Image.Image, offset: tuple[int, int] = (0, 0)) -> None:
        """Paste a prepared 8-bit image into ``layer`` (used for cached vessel trees)."""
        self.draw(layer)
        self._layers[layer].paste(image, offset)

    def line(self, layer: str, points: np.ndarray, width: float, value: int) -> None:
        """A polyline of canonical ``width`` with rounded joints."""
        pix_width = self.width(width)
        joint = "curve" if pix_width > JOINT_MIN_WIDTH else None
        self.draw(layer).line(self.pts(points), fill=int(value), width=pix_width, joint=joint)

    def band(self, layer: str, points: np.ndarray, width: float, edge: int, core: int) -> None:
        """A bone-like band: bright cortex edges around a less dense core."""
        self.line(layer, points, width, edge)
        core_width = width * 0.55
        if self.px(core_width) >= 1.0:
            self.line(layer, points, core_width, core)

    def polygon(self, layer: str, points: np.ndarray, value: int) -> None:
        self.draw(layer).polygon(self.pts(points), fill=int(value))

    def ellipse(self, layer: str, cx: float, cy: float, rx: float, ry: float, value: int) -> None:
        self.draw(layer).ellipse(self.box(cx, cy, rx, ry), fill=int(value))


@lru_cache(maxsize=8)
def grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Canonical (x, y) coordinates of every canvas pixel centre, each (R, R) float32."""
    coords = ((np.arange(size, dtype=np.float32) + 0.5) * ((1.0 + 2.0 * MARGIN) / size)
              - MARGIN).astype(np.float32)
    return np.broadcast_to(coords[None, :], (size, size)), np.broadcast_to(coords[:, None],
                                                                           (size, size))


def bezier(p0, p1, p2, steps: int = BEZIER_STEPS) -> np.ndarray:
    """Quadratic Bezier curve through control points p0, p1, p2. (steps, 2)"""
    t = np.linspace(0.0, 1.0, steps)[:, None]
    p0, p1, p2 = (np.asarray(p, dtype=np.float64) for p in (p0, p1, p2))
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t ** 2 * p2


def catmull_rom(points, closed: bool = False, steps: int = CATMULL_STEPS) -> np.ndarray:
    """Smooth curve through ``points`` (centripetal-free uniform Catmull-Rom). (M, 2)"""
    pts = np.asarray(points, dtype=np.float64)
    if closed:
        ext = np.vstack([pts[-1:], pts, pts[:2]])
    else:
        ext = np.vstack([2 * pts[:1] - pts[1:2], pts, 2 * pts[-1:] - pts[-2:-1]])
    t = np.linspace(0.0, 1.0, steps, endpoint=False)[:, None]
    t2, t3 = t * t, t * t * t
    out = []
    for i in range(1, len(ext) - 2):
        a, b, c, d = ext[i - 1], ext[i], ext[i + 1], ext[i + 2]
        out.append(0.5 * (2 * b + (-a + c) * t + (2 * a - 5 * b + 4 * c - d) * t2
                          + (-a + 3 * b - 3 * c + d) * t3))
    if not closed:
        out.append(pts[-1:])
    return np.vstack(out)
