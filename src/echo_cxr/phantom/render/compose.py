"""From canvas layers to a radiograph: attenuation sum, exposure curve, pose, blur and noise.

Density D = soft tissue - aerated lung + bone + vessels + soft + fill + metal (weights below),
where ``fill`` and ``haze`` (effusion, consolidation, nodules...; haze is blurred more) replace
lung air inside the ``lung`` mask and ``ptx`` (pneumothorax) turns lung into pure air without
vessel markings. Brightness follows an
exposure curve 1 - exp(-g D) (white = dense, as on a MONOCHROME2 display), then a window and
gamma per study, then the pose (rotation, zoom, shift) in the same resampling pass as the
upsampling to the output size, then film-grain noise from a fixed, seeded noise tile.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image

from echo_cxr.phantom.render.canvas import MARGIN, Canvas, grid

# Attenuation weights of the layers (relative to full soft-tissue thickness = 1).
W_BODY, W_AIR, W_BONE, W_VESSEL, W_SOFT, W_FILL, W_METAL = 1.0, 1.0, 0.34, 0.22, 0.3, 0.08, 1.6
GAIN = 1.35  # exposure curve steepness
CENTRAL_THICKNESS = 0.18  # extra soft tissue near the midline (mediastinum, spine, abdomen)
AIR_FLOOR = 0.62  # lung air at the lung edge relative to its depth-weighted centre
FILL_AIR_LOSS = 0.92
FILL_EDGE_GAIN = 4.0
NOISE_SEED = 20261128
NOISE_CORRELATION_PX = 0.7
LUNG_TEXTURE = 0.045  # relative mottling of lung air
TEXTURE_SCALE = 0.008  # mottling grain as a fraction of the canvas

# Layer blur as a fraction of the canvas size (sigma).
# Layers blurred together share a sigma: "fine" = air, lung, vessel, soft; "sharp" = bone,
# metal, ptx. Body and depth are wide blurs computed at low resolution.
BLUR = {"body": 0.035, "depth": 0.07, "fine": 0.0045, "sharp": 0.0025, "fill": 0.008,
        "haze": 0.02}


@dataclass(frozen=True)
class Nuisance:
    """Per-study acquisition variation. Pose in canonical units, blur in output pixels."""

    rotation_deg: float = 0.0
    zoom: float = 1.0
    shift: tuple[float, float] = (0.0, 0.0)
    exposure: float = 1.0
    gamma: float = 1.0
    black: float = 0.0
    white: float = 0.97
    noise: float = 0.0
    blur: float = 0.0
    noise_offset: tuple[int, int] = (0, 0)


def sample_nuisance(rng: np.random.Generator, amount: float) -> Nuisance:
    """Draw a study's nuisance; ``amount`` scales every deviation from identity (0 = none)."""
    u = rng.uniform
    return Nuisance(
        rotation_deg=float(u(-4.0, 4.0)) * amount,
        zoom=1.0 + float(u(-0.06, 0.06)) * amount,
        shift=(float(u(-0.035, 0.035)) * amount, float(u(-0.035, 0.035)) * amount),
        exposure=float(np.exp(u(-0.15, 0.15) * amount)),
        gamma=float(np.exp(u(-0.2, 0.2) * amount)),
        black=float(u(-0.02, 0.03)) * amount,
        white=0.97 + float(u(-0.04, 0.03)) * amount,
        noise=float(u(0.01, 0.028)) * amount,
        blur=float(u(0.0, 0.9)) * amount,
        noise_offset=(int(rng.integers(1 << 16)), int(rng.integers(1 << 16))),
    )


def density(cv: Canvas, mid: float, nz: Nuisance, blur_px: float,
            extra_fill: np.ndarray | None = None) -> np.ndarray:
    """Attenuation map of the canvas layers. (R, R) float32"""
    size = cv.size
    sigma = {name: frac * size + blur_px for name, frac in BLUR.items()}
    air, lung, vessel, soft = cv.arrays(("air", "lung", "vessel", "soft"), sigma["fine"])
    bone, metal, ptx = cv.arrays(("bone", "metal", "ptx"), sigma["sharp"])
    texture = _crop(texture_tile(size), size, nz.noise_offset[::-1])
    air = air * (1.0 + LUNG_TEXTURE * texture * lung)
    vessel = vessel * lung
    if cv.has("ptx"):
        ptx = ptx * lung
        air = np.maximum(air, ptx)
        vessel *= 1.0 - ptx
    fill = cv.array("fill", sigma["fill"]) + cv.array("haze", sigma["haze"])
    if extra_fill is not None:
        fill = fill + extra_fill
    # Opacities act on all lung air, edges included (a mask at full strength from 1/4 lung
    # upwards), so an effusion leaves no dark rim along the blurred lung border.
    fill = np.clip(fill, 0.0, 1.0) * np.minimum(lung * FILL_EDGE_GAIN, 1.0)
    depth = cv.smooth("air", sigma["depth"])
    x, _ = grid(size)
    thick = cv.smooth("body", sigma["body"]) * (
        1.0 - CENTRAL_THICKNESS + CENTRAL_THICKNESS * np.exp(-((x - mid) / 0.28) ** 2))
    dens = (W_BODY * thick
            - W_AIR * air * (AIR_FLOOR + (1 - AIR_FLOOR) * depth) * (1.0 - FILL_AIR_LOSS * fill)
            + W_BONE * bone + W_VESSEL * vessel + W_SOFT * soft + W_FILL * fill
            + W_METAL * metal)
    return np.maximum(dens, 0.0).astype(np.float32)


def tone(dens: np.ndarray, nz: Nuisance) -> np.ndarray:
    """Exposure curve, window and gamma: density -> display brightness in [0, 1]."""
    bright = 1.0 - np.exp(-GAIN * nz.exposure * dens)
    bright = np.clip((bright - nz.black) * (1.0 / (nz.white - nz.black)), 0.0, 1.0)
    if nz.gamma != 1.0:
        bright = bright ** np.float32(nz.gamma)
    return bright.astype(np.float32)


def _affine(nz: Nuisance, work: int, out: int) -> tuple[float, ...]:
    """PIL affine data mapping output pixel coordinates to canvas pixel coordinates."""
    theta = np.deg2rad(nz.rotation_deg)
    rot_inv = np.array([[np.cos(theta), np.sin(theta)], [-np.sin(theta), np.cos(theta)]])
    canvas_scale = work / (1.0 + 2.0 * MARGIN)
    # canonical p = c + R^-1 (q - c - shift) / zoom, q = output_px / out; canvas = (p + M) * s
    lin = rot_inv / nz.zoom * (canvas_scale / out)
    centre = np.array([0.5, 0.5])
    offset = (centre + rot_inv @ (-centre - np.asarray(nz.shift)) / nz.zoom + MARGIN) * canvas_scale
    return (lin[0, 0], lin[0, 1], offset[0], lin[1, 0], lin[1, 1], offset[1])


@lru_cache(maxsize=4)
def texture_tile(size: int) -> np.ndarray:
    """Seeded smooth noise for lung parenchyma mottling. (2R, 2R) float32, unit std"""
    from scipy.ndimage import gaussian_filter

    tile = np.random.default_rng(NOISE_SEED + 1).standard_normal((2 * size, 2 * size))
    tile = gaussian_filter(tile, TEXTURE_SCALE * size, mode="wrap")
    return (tile / tile.std()).astype(np.float32)


def _crop(tile: np.ndarray, size: int, offset: tuple[int, int]) -> np.ndarray:
    oy, ox = offset[0] % size, offset[1] % size
    return tile[oy:oy + size, ox:ox + size]


@lru_cache(maxsize=4)
def noise_tile(size: int) -> np.ndarray:
    """A fixed (seeded) tile of slightly correlated unit Gaussian noise. (2S, 2S) float32"""
    from scipy.ndimage import gaussian_filter

    tile = np.random.default_rng(NOISE_SEED).standard_normal((2 * size, 2 * size))
    tile = gaussian_filter(tile, NOISE_CORRELATION_PX, mode="wrap")
    return (tile / tile.std()).astype(np.float32)


def finish(bright: np.ndarray, nz: Nuisance, out: int, background: float) -> np.ndarray:
    """Pose + upsampling in one bilinear pass, then noise. (S, S) float32 in [0, 1]"""
    image = Image.fromarray(bright).transform(
        (out, out), Image.Transform.AFFINE, _affine(nz, bright.shape[0], out),
        resample=Image.Resampling.BILINEAR, fillcolor=background)
    pic = np.asarray(image, dtype=np.float32)
    if nz.noise > 0:
        grain = _crop(noise_tile(out), out, nz.noise_offset)
        pic = pic + grain * (np.float32(nz.noise) * (1.3 - pic))
    return np.clip(pic, 0.0, 1.0)


def render_canvas(cv: Canvas, mid: float, nz: Nuisance, out: int,
                  extra_fill: np.ndarray | None = None) -> np.ndarray:
    """Canvas -> final view at ``out`` x ``out``. (S, S) float32"""
    work_blur = nz.blur * cv.size / out
    bright = tone(density(cv, mid, nz, work_blur, extra_fill), nz)
    background = float(tone(np.zeros((1, 1), np.float32), nz)[0, 0])
    return finish(bright, nz, out, background)
