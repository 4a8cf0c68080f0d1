"""DICOM through pydicom, mapped to 8-bit display values the way a viewer would.

Grayscale (MONOCHROME1/2): stored values -> modality LUT (Rescale Slope/Intercept or a Modality
LUT Sequence) -> VOI: the first VOI LUT Sequence item if present, else the first Window
Center/Width with its VOI LUT Function (LINEAR, LINEAR_EXACT, SIGMOID; DICOM PS3.3 C.11.2.1.2),
else the full value range -> inverted for MONOCHROME1 or Presentation LUT Shape INVERSE (both
name the same single inversion, PS3.3 C.8.11.6), so that dense tissue is white.
Color (RGB, YBR_*, PALETTE COLOR) is converted to RGB. 8 to 16 bits allocated. Compressed pixel
data: JPEG baseline/extended/lossless, JPEG-LS, JPEG 2000 (incl. HTJ2K) and RLE through
pydicom's plugins (pylibjpeg with its libjpeg and openjpeg back-ends, Pillow).
Refused with a clear message: multi-frame images, files without pixel data (reports, structured
documents), float pixel data, unknown transfer syntaxes and those without an image decoder
(video, JPIP).
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from echo_cxr.errors import EchoError
from echo_cxr.imaging.limits import ImageLimits
from echo_cxr.imaging.raster import DISPLAY_MAX, one_line, stretch

DICOM_MAGIC_OFFSET = 128
DICOM_MAGIC = b"DICM"
SUPPORTED_BITS_ALLOCATED = (8, 16)
GRAY = ("MONOCHROME1", "MONOCHROME2")
COLOR = ("RGB", "YBR_FULL", "YBR_FULL_422", "YBR_ICT", "YBR_RCT", "PALETTE COLOR")
FLOAT_PIXEL_KEYWORDS = ("FloatPixelData", "DoubleFloatPixelData")
SIGMOID_SLOPE = 4.0  # PS3.3 C.11.2.1.3.1: y = 1 / (1 + exp(-4 (x - c) / w))
LINEAR_HALF_OFFSET = 0.5  # PS3.3 C.11.2.1.2.1: LINEAR windows are centred on c - 0.5 over w - 1


def has_dicom_magic(head: bytes) -> bool:
    return head[DICOM_MAGIC_OFFSET:DICOM_MAGIC_OFFSET + len(DICOM_MAGIC)] == DICOM_MAGIC


def _read(data: bytes, label: str, force: bool):
    import pydicom

    try:
        return pydicom.dcmread(io.BytesIO(data), force=force)
    except Exception as err:  # pydicom raises many types (InvalidDicomError, struct.error, ...) for bad files
        raise EchoError(f"cannot read DICOM file {label}: {one_line(err)}") from None


def _transfer_syntax(ds, label: str):
    """The file's transfer syntax (inferred from the encoding for files without a meta header),
    checked against the pixel-data decoders pydicom has available."""
    from pydicom.dataset import FileMetaDataset
    from pydicom.pixels import get_decoder
    from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian

    if getattr(ds, "file_meta", None) is None:
        ds.file_meta = FileMetaDataset()
    meta = ds.file_meta
    syntax = meta.get("TransferSyntaxUID")
    if syntax is None:
        implicit, little = getattr(ds, "original_encoding", (True, True))
        if not little:
            raise EchoError(f"DICOM file {label} has no transfer syntax and is big endian; cannot decode it")
        syntax = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
        meta.TransferSyntaxUID = syntax
    syntax = UID(str(syntax))
    try:
        decoder = get_decoder(syntax)
    except NotImplementedError:
        what = f"{syntax} ({syntax.name}), which has no image decoder" if syntax.is_transfer_syntax else \
            f"{syntax}, which is unknown"
        raise EchoError(f"DICOM file {label} uses transfer syntax {what}; cannot decode its pixel data") from None
    if not decoder.is_available:
        needs = "; ".join(decoder.missing_dependencies) or "a pixel-data plugin"
        raise EchoError(f"DICOM file {label} is compressed with {syntax.name} ({syntax}); decoding it needs "
                        f"an extra package: {needs}")
    return syntax


def _check_header(ds, label: str, limits: ImageLimits) -> str:
    """Everything that can be refused before the pixel data is decoded; returns the photometric
    interpretation."""
    if any(keyword in ds for keyword in FLOAT_PIXEL_KEYWORDS):
        raise EchoError(f"DICOM file {label} holds float pixel data (a parametric map), not a radiograph")
    if "PixelData" not in ds:
        kind = getattr(getattr(ds, "SOPClassUID", None), "name", None) or "unknown SOP class"
        raise EchoError(f"DICOM file {label} holds no image (no pixel data; {kind})")
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    if frames > 1:
        raise EchoError(f"DICOM file {label} is multi-frame ({frames} frames); give one frame per view")
    rows, cols = int(ds.get("Rows", 0) or 0), int(ds.get("Columns", 0) or 0)
    if rows == 0 or cols == 0:
        raise EchoError(f"DICOM file {label} has no image size (Rows/Columns missing)")
    limits.check_size(cols, rows, label)
    bits = int(ds.get("BitsAllocated", 0) or 0)
    if bits not in SUPPORTED_BITS_ALLOCATED:
        raise EchoError(f"DICOM file {label} has {bits} bits allocated; echo-cxr reads 8 to 16 bit images")
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip().upper()
    if photometric not in GRAY + COLOR:
        raise EchoError(f"DICOM file {label} has photometric interpretation {photometric}, which is not supported")
    return photometric


def _window(values: np.ndarray, ds) -> np.ndarray | None:
    """The first Window Center/Width as a [0, 1] picture, or None without a usable window."""
    from pydicom.multival import MultiValue

    center, width = ds.get("WindowCenter"), ds.get("WindowWidth")
    if center is None or width is None:
        return None
    center = float(center[0] if isinstance(center, MultiValue) else center)
    width = float(width[0] if isinstance(width, MultiValue) else width)
    function = str(ds.get("VOILUTFunction", "LINEAR")).strip().upper() or "LINEAR"
    if function == "SIGMOID":
        return 1.0 / (1.0 + np.exp(-SIGMOID_SLOPE * (values - center) / width)) if width > 0 else None
    if function == "LINEAR_EXACT":
        return np.clip((values - center) / width + 0.5, 0.0, 1.0) if width > 0 else None
    if width < 1:
        return None  # LINEAR needs width >= 1 (PS3.3 C.11.2.1.2.1)
    if width == 1:
        return (values > center - LINEAR_HALF_OFFSET).astype(np.float64)
    return np.clip((values - (center - LINEAR_HALF_OFFSET)) / (width - 1) + 0.5, 0.0, 1.0)


def _voi_lut(values: np.ndarray, ds) -> np.ndarray | None:
    """The first VOI LUT Sequence item applied, as a [0, 1] picture spanning the LUT's output range."""
    from pydicom.pixels import apply_voi

    if not ds.get("VOILUTSequence"):
        return None
    mapped = apply_voi(np.rint(values).astype(np.int64), ds, index=0).astype(np.float64)
    table = np.asarray(ds.VOILUTSequence[0].LUTData, dtype=np.float64)
    low, high = float(table.min()), float(table.max())
    return (mapped - low) / (high - low) if high > low else np.zeros_like(mapped)


def gray_display(stored: np.ndarray, ds, photometric: str) -> np.ndarray:
    """Stored values of a grayscale image -> (H, W) uint8 display values."""
    from pydicom.pixels import apply_modality_lut

    values = apply_modality_lut(stored, ds).astype(np.float64)
    unit = _voi_lut(values, ds)
    if unit is None:
        unit = _window(values, ds)
    display = stretch(values) if unit is None else np.round(unit * DISPLAY_MAX).astype(np.uint8)
    inverse = str(ds.get("PresentationLUTShape", "")).strip().upper() == "INVERSE"
    return DISPLAY_MAX - display if photometric == "MONOCHROME1" or inverse else display


def _color_display(pixels: np.ndarray, ds, photometric: str) -> np.ndarray:
    from pydicom.pixels import apply_color_lut

    if photometric == "PALETTE COLOR":
        pixels = apply_color_lut(pixels, ds)
    if pixels.dtype != np.uint8:  # 16-bit color: keep the top byte of each sample
        top = float((1 << int(ds.get("BitsStored", 16))) - 1)
        pixels = np.round(pixels.astype(np.float64) / top * DISPLAY_MAX).astype(np.uint8)
    return pixels


def decode_dicom(data: bytes, label: str, limits: ImageLimits, force: bool = False) -> Image.Image:
    """A DICOM file's bytes -> RGB display image (see the module docstring)."""
    ds = _read(data, label, force)
    if force and "PixelData" not in ds and "SOPClassUID" not in ds:  # read without a preamble: garbage?
        raise EchoError(f"cannot read DICOM file {label}: not a DICOM file (no 'DICM' preamble, no image elements)")
    photometric = _check_header(ds, label, limits)
    _transfer_syntax(ds, label)
    try:
        pixels = ds.pixel_array
    except Exception as err:  # decoder plugins raise many types for damaged pixel data
        raise EchoError(f"cannot decode the pixel data of DICOM file {label}: {one_line(err)}") from None
    if photometric in GRAY:
        return Image.fromarray(gray_display(pixels, ds, photometric)).convert("RGB")
    return Image.fromarray(_color_display(pixels, ds, photometric)).convert("RGB")
