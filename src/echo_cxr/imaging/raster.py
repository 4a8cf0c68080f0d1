"""PNG and JPEG through PIL: header first (size checked), then pixels, then an RGB display image.

PIL's own ``Image.open`` warns about large images from a process-wide threshold; the format
plugins are opened directly instead, so that the study's ``ImageLimits`` decide, before decoding,
without touching PIL's global state. Modes handled: 1-bit, 8-bit gray, 16-bit gray (``I;16*``),
32-bit int and float gray, palette (with or without transparency), RGB, CMYK, YCbCr and any of
these with alpha.
"""

from __future__ import annotations

import io
import zlib

import numpy as np
from PIL import Image, ImageOps, JpegImagePlugin, PngImagePlugin

from echo_cxr.errors import EchoError
from echo_cxr.imaging.limits import ImageLimits

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
FORMATS = {"PNG": (PNG_MAGIC, PngImagePlugin.PngImageFile), "JPEG": (JPEG_MAGIC, JpegImagePlugin.JpegImageFile)}
DISPLAY_MAX = 255
WIDE_GRAY_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")
ALPHA_MODES = ("LA", "La", "PA", "RGBA", "RGBa")
BLACK = (0, 0, 0, DISPLAY_MAX)
MESSAGE_CHARS = 240  # longest library message quoted in an error line
# What PIL raises for bad headers or data: SyntaxError (bad chunk), OSError (truncated), and a few
# more from its parsers.
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, zlib.error, Image.DecompressionBombError)


def raster_format(head: bytes) -> str | None:
    """'PNG' or 'JPEG' from a file's first bytes, else None."""
    for name, (magic, _plugin) in FORMATS.items():
        if head.startswith(magic):
            return name
    return None


def one_line(err: BaseException) -> str:
    """A library exception's message as one short line (some span several lines)."""
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 3] + "..."


def decode_raster(data: bytes, kind: str, label: str, limits: ImageLimits) -> Image.Image:
    """A PNG or JPEG file's bytes -> RGB image; the declared size is checked before decoding."""
    plugin = FORMATS[kind][1]
    try:
        image = plugin(io.BytesIO(data))
    except DECODE_ERRORS as err:
        raise EchoError(f"cannot read image {label}: not a valid {kind} file ({one_line(err)})") from None
    limits.check_size(*image.size, label)
    try:
        image.load()
        if kind == "JPEG":
            image = ImageOps.exif_transpose(image)
    except DECODE_ERRORS as err:
        raise EchoError(f"cannot read image {label}: truncated or corrupt {kind} data ({one_line(err)})") from None
    return to_rgb(image)


def stretch(values: np.ndarray) -> np.ndarray:
    """Map the value range [min, max] of a gray picture onto 0..255 (uint8); flat pictures -> 0."""
    values = values.astype(np.float64)
    low, high = float(values.min()), float(values.max())
    if not high > low:
        return np.zeros(values.shape, dtype=np.uint8)
    return np.round((values - low) / (high - low) * DISPLAY_MAX).astype(np.uint8)


def to_rgb(image: Image.Image) -> Image.Image:
    """Any PIL image -> 8-bit RGB. Wide gray is stretched to its range; alpha is composited on black
    (an empty region of a radiograph is unexposed, i.e. black on a MONOCHROME2 display)."""
    if image.mode in WIDE_GRAY_MODES:
        image = Image.fromarray(stretch(np.asarray(image)))
    elif image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode == "L" and "transparency" in image.info:
        image = image.convert("LA")
    if image.mode in ALPHA_MODES:
        background = Image.new("RGBA", image.size, BLACK)
        image = Image.alpha_composite(background, image.convert("RGBA"))
    return image.convert("RGB")


def array_image(values: np.ndarray, label: str) -> Image.Image:
    """A (H, W) gray or (H, W, 3|4) color array -> PIL image (wide or float gray is stretched)."""
    if values.ndim == 3 and values.shape[2] == 1:
        values = values[..., 0]
    if values.ndim == 2:
        if values.dtype == np.bool_:
            values = values.astype(np.uint8) * DISPLAY_MAX
        return Image.fromarray(values if values.dtype == np.uint8 else stretch(values))
    if values.ndim == 3 and values.shape[2] in (3, 4):
        if values.dtype != np.uint8:
            raise EchoError(f"image {label}: color arrays must be uint8, got {values.dtype}")
        return Image.fromarray(values)
    raise EchoError(f"image {label}: expected a (H, W) gray or (H, W, 3|4) color array, got shape {values.shape}")
