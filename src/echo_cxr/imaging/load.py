"""``load_image``: any accepted image source -> RGB PIL image, or one clear ``EchoError``.

Sources: a path (PNG, JPEG or DICOM, told apart by their bytes; a ``.dcm``/``.dicom`` file
without the DICOM preamble is read as DICOM too), an ``EncodedImage`` (an upload's bytes and
name), raw bytes, a PIL image or a numpy array. Every source is checked against the study's
``ImageLimits`` (size in bytes, declared pixels, smallest side, aspect ratio).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from echo_cxr.errors import EchoError
from echo_cxr.imaging.dicom import DICOM_MAGIC, DICOM_MAGIC_OFFSET, decode_dicom, has_dicom_magic
from echo_cxr.imaging.limits import DEFAULT_LIMITS, ImageLimits
from echo_cxr.imaging.raster import array_image, decode_raster, raster_format, to_rgb

DICOM_SUFFIXES = (".dcm", ".dicom")
HEAD_BYTES = DICOM_MAGIC_OFFSET + len(DICOM_MAGIC)
SHOWN_HEAD_BYTES = 16  # bytes quoted when a file is neither PNG, JPEG nor DICOM


@dataclass(frozen=True)
class EncodedImage:
    """An image file's bytes with the name to use in messages (an upload, a file read elsewhere)."""

    data: bytes
    name: str = "upload"

    def __repr__(self) -> str:
        return f"EncodedImage({self.name!r}, {len(self.data)} bytes)"


def is_dicom(path: str | Path) -> bool:
    """True for files with the DICOM preamble magic or a .dcm/.dicom suffix."""
    path = Path(path)
    if path.suffix.lower() in DICOM_SUFFIXES:
        return True
    with open(path, "rb") as handle:
        return has_dicom_magic(handle.read(HEAD_BYTES))


def decode_bytes(data: bytes, label: str, limits: ImageLimits = DEFAULT_LIMITS, suffix: str = "") -> Image.Image:
    """An image file's bytes -> RGB image; the format comes from the bytes (suffix: DICOM hint only)."""
    limits.check_bytes(len(data), label)
    kind = raster_format(data)
    if kind is not None:
        return decode_raster(data, kind, label, limits)
    if has_dicom_magic(data):
        return decode_dicom(data, label, limits)
    if suffix.lower() in DICOM_SUFFIXES:
        return decode_dicom(data, label, limits, force=True)
    head = data[:SHOWN_HEAD_BYTES]
    raise EchoError(f"cannot read image {label}: not a PNG, JPEG or DICOM file (it starts with {head!r})")


def read_file(path: Path, limits: ImageLimits = DEFAULT_LIMITS) -> Image.Image:
    """A file on disk -> RGB image, with a clear error for every way a path can be wrong."""
    if path.is_dir():
        raise EchoError(f"cannot read image {path}: it is a directory, not an image file")
    if not path.exists():
        raise EchoError(f"image not found: {path}")
    if not path.is_file():
        raise EchoError(f"cannot read image {path}: not a regular file")
    try:
        limits.check_bytes(path.stat().st_size, str(path))
        data = path.read_bytes()
    except OSError as err:
        raise EchoError(f"cannot read image {path}: {err.strerror or err}") from None
    return decode_bytes(data, str(path), limits, suffix=path.suffix)


def read_dicom(path: str | Path, limits: ImageLimits = DEFAULT_LIMITS) -> Image.Image:
    """A single-frame DICOM file -> RGB display image (see ``imaging.dicom``)."""
    path = Path(path)
    if not path.is_file():
        raise EchoError(f"image not found: {path}")
    return decode_dicom(path.read_bytes(), str(path), limits, force=path.suffix.lower() in DICOM_SUFFIXES)


def load_image(source, limits: ImageLimits = DEFAULT_LIMITS) -> Image.Image:
    """An RGB PIL image from a path (PNG/JPEG/DICOM), an ``EncodedImage``, bytes, a PIL image or an array."""
    if isinstance(source, Image.Image):  # already decoded: no byte or pixel budget to protect
        limits.check_shape(*source.size, "(in-memory image)")
        return to_rgb(source)
    if isinstance(source, np.ndarray):
        image = array_image(source, "(array)")
        limits.check_shape(*image.size, "(array)")
        return to_rgb(image)
    if isinstance(source, EncodedImage):
        return decode_bytes(source.data, source.name, limits, suffix=Path(source.name).suffix)
    if isinstance(source, (bytes, bytearray)):
        return decode_bytes(bytes(source), "(bytes)", limits)
    if isinstance(source, (str, Path)):
        return read_file(Path(source), limits)
    raise EchoError(f"unsupported image source of type {type(source).__name__}")


def load_study_images(sources: Sequence, limits: ImageLimits = DEFAULT_LIMITS) -> list[Image.Image]:
    """Every view of one study, checked against the study budget (count, then each image)."""
    limits.check_count(len(sources))
    return [load_image(source, limits) for source in sources]


def image_label(source) -> str:
    """How a study's image is named in records and messages."""
    if isinstance(source, EncodedImage):
        return source.name
    if isinstance(source, (str, Path)):
        return str(source)
    return f"({type(source).__name__})"
