"""Reading images for every entry point: PNG/JPEG through PIL, DICOM through pydicom.

DICOM pixel data is mapped to 8-bit display values the way a viewer would: modality rescale
(slope/intercept), then the VOI LUT or window center/width, then MONOCHROME1 inversion.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from echo_cxr.errors import EchoError

DICOM_MAGIC_OFFSET = 128
DICOM_MAGIC = b"DICM"
DISPLAY_MAX = 255


def is_dicom(path: Path) -> bool:
    """True for files with the DICOM preamble magic or a .dcm suffix."""
    if path.suffix.lower() in (".dcm", ".dicom"):
        return True
    with open(path, "rb") as handle:
        head = handle.read(DICOM_MAGIC_OFFSET + len(DICOM_MAGIC))
    return head[DICOM_MAGIC_OFFSET:] == DICOM_MAGIC


def _to_display(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    scaled = (values - low) / (high - low) if high > low else np.zeros_like(values, dtype=np.float64)
    return np.round(scaled * DISPLAY_MAX).astype(np.uint8)


def read_dicom(path: Path) -> Image.Image:
    """A single-frame grayscale DICOM as an 8-bit display image."""
    import pydicom
    from pydicom.pixels import apply_modality_lut, apply_voi_lut

    try:
        dataset = pydicom.dcmread(path)
    except Exception as err:  # pydicom raises several types for corrupt files
        raise EchoError(f"cannot read DICOM file {path}: {err}") from None
    if "PixelData" not in dataset:
        raise EchoError(f"DICOM file {path} holds no image (no PixelData)")
    if int(getattr(dataset, "NumberOfFrames", 1) or 1) > 1:
        raise EchoError(f"DICOM file {path} is multi-frame; give one frame per view")
    pixels = apply_modality_lut(dataset.pixel_array, dataset).astype(np.float64)
    pixels = apply_voi_lut(pixels, dataset).astype(np.float64)
    display = _to_display(pixels)
    if getattr(dataset, "PhotometricInterpretation", "MONOCHROME2") == "MONOCHROME1":
        display = DISPLAY_MAX - display
    return Image.fromarray(display)


def load_image(source) -> Image.Image:
    """An RGB PIL image from a path (PNG/JPEG/DICOM), a PIL image or a uint8 array."""
    if isinstance(source, Image.Image):
        image = source
    elif isinstance(source, np.ndarray):
        image = Image.fromarray(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise EchoError(f"image not found: {path}")
        if is_dicom(path):
            image = read_dicom(path)
        else:
            try:
                image = Image.open(path)
                image.load()
            except (UnidentifiedImageError, OSError) as err:
                raise EchoError(f"cannot read image {path}: {err}") from None
    if image.mode in ("I;16", "I;16B", "I", "F"):
        image = Image.fromarray(_to_display(np.asarray(image, dtype=np.float64)))
    return image.convert("RGB")
