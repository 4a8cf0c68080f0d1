"""The image budget of a study, checked before any pixel is decoded.

A study is one or more views. Each view's *declared* size (PNG header, JPEG frame header, DICOM
Rows/Columns) is checked against these limits before its pixel data is decoded, so a
decompression bomb (a small file declaring a huge image) is refused without allocating it. The
per-view budget the *model* sees (width * height <= 2,250,000 after resizing, METHOD.md section 1)
is applied later by the processor (``--max-pixels``); these limits only refuse what cannot be a
radiograph or would exhaust memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from echo_cxr.errors import EchoError

MAX_IMAGES_PER_STUDY = 4  # frontal + lateral and a few extra views; each costs ~2,900 vision tokens
MIN_IMAGE_SIDE = 28  # one merged Qwen2.5-VL vision patch (14 px x 2); smaller is not a radiograph
MAX_ASPECT_RATIO = 200  # the Qwen2.5-VL processor refuses longer strips
MAX_SOURCE_PIXELS = 8192 * 8192  # ~3x the largest detector formats (43 cm at 0.1 mm: 4300 px per side)
MAX_IMAGE_BYTES = 64 * 1024 * 1024  # an uncompressed 16-bit 4300 x 4300 DICOM is ~37 MB
MEBIBYTE = 1024 * 1024


class LimitExceeded(EchoError):
    """An input over a configured limit (images per study, bytes or pixels per image): the
    service answers it with 413, other bad input with 400."""


def byte_size(count: int) -> str:
    """A byte count for messages: bytes below one MiB, else MiB with one decimal."""
    return f"{count} bytes" if count < MEBIBYTE else f"{count / MEBIBYTE:.1f} MiB"


@dataclass(frozen=True)
class ImageLimits:
    """What one study may hold. Every entry point (CLI, demo, service) checks inputs against one."""

    max_images: int = MAX_IMAGES_PER_STUDY
    max_source_pixels: int = MAX_SOURCE_PIXELS
    max_bytes: int = MAX_IMAGE_BYTES
    min_side: int = MIN_IMAGE_SIDE
    max_aspect_ratio: float = MAX_ASPECT_RATIO

    def __post_init__(self) -> None:
        for name in ("max_images", "max_source_pixels", "max_bytes", "min_side"):
            if getattr(self, name) < 1:
                raise EchoError(f"image limit {name.replace('_', ' ')} must be at least 1, got {getattr(self, name)}")
        if self.max_aspect_ratio < 1:
            raise EchoError(f"maximum aspect ratio must be at least 1, got {self.max_aspect_ratio}")
        if self.min_side * self.min_side > self.max_source_pixels:
            raise EchoError("image limits: the minimum side does not fit in the maximum pixel count")

    def check_count(self, count: int) -> None:
        """A study holds at least one and at most ``max_images`` views."""
        if count < 1:
            raise EchoError("a study needs at least one image")
        if count > self.max_images:
            raise LimitExceeded(f"too many images for one study: {count} (at most {self.max_images})")

    def check_bytes(self, size: int, label: str) -> None:
        """Empty files and files over ``max_bytes`` are refused before they are read."""
        if size == 0:
            raise EchoError(f"cannot read image {label}: the file is empty (0 bytes)")
        if size > self.max_bytes:
            raise LimitExceeded(f"image {label} is {byte_size(size)}, over the limit of "
                                f"{byte_size(self.max_bytes)} per image")

    def check_size(self, width: int, height: int, label: str) -> None:
        """Declared width x height: not too small, not too long, not a decompression bomb."""
        if width * height > self.max_source_pixels:
            raise LimitExceeded(f"image {label} declares {width}x{height} = {width * height} pixels, over the "
                                f"limit of {self.max_source_pixels} pixels; refusing to decode it")
        self.check_shape(width, height, label)

    def check_shape(self, width: int, height: int, label: str) -> None:
        """Smallest side and aspect ratio (all an already decoded, in-memory image is checked for)."""
        if min(width, height) < self.min_side:
            raise EchoError(f"image {label} is {width}x{height} pixels; a view needs at least "
                            f"{self.min_side} pixels on each side")
        if max(width, height) / min(width, height) > self.max_aspect_ratio:
            raise EchoError(f"image {label} is {width}x{height} pixels, an aspect ratio over "
                            f"{self.max_aspect_ratio:g}; not a radiograph")


DEFAULT_LIMITS = ImageLimits()
