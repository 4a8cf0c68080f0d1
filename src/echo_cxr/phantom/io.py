"""Writing and reading phantom views: 8/16-bit PNG (PIL) and DICOM (pydicom).

Views are float32 pictures in [0, 1] with 1 = dense (white). PNG stores round(v * (2^bits - 1))
as 8-bit or 16-bit grayscale (PIL reads them as "L" / "I;16"). DICOM stores a Digital X-Ray
(DX) image, 16 bits allocated and ``bits_stored`` used; MONOCHROME2 stores the picture as is, MONOCHROME1 stores
max - value (white = low values) as some vendors do. ``read_view`` undoes all of that, so a
written view reads back as the same picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from echo_cxr.errors import EchoError
from echo_cxr.phantom.png import encode_png

DX_STORAGE = "1.2.840.10008.5.1.4.1.1.1.1"  # Digital X-Ray Image Storage - For Presentation
UID_PREFIX = "1.2.826.0.1.3680043.8.498."  # pydicom's UID root, for generated UIDs
FIELD_OF_VIEW_MM = 400.0  # detector field of view across the image
VIEW_POSITION = {"frontal": "PA", "lateral": "LL"}
STUDY_DATE = "20261128"


def quantise(picture: np.ndarray, bits: int) -> np.ndarray:
    """[0, 1] float picture -> unsigned integers with ``bits`` significant bits."""
    top = (1 << bits) - 1
    dtype = np.uint8 if bits <= 8 else np.uint16
    return (np.clip(picture, 0.0, 1.0) * np.float32(top) + np.float32(0.5)).astype(dtype)


def write_png(path: Path, picture: np.ndarray, bit_depth: int, compress_level: int) -> None:
    """8-bit or 16-bit grayscale PNG of a [0, 1] picture (see ``png.encode_png``)."""
    Path(path).write_bytes(encode_png(quantise(picture, bit_depth), compress_level))


@dataclass(frozen=True)
class DicomInfo:
    """What the DICOM header says about a phantom view."""

    study_key: str  # e.g. "phantom-s42-train-000003": seeds the UIDs, names the patient
    view: str = "frontal"
    monochrome: int = 2
    bits_stored: int = 12


def _uid(*parts: str) -> str:
    from pydicom.uid import generate_uid

    return str(generate_uid(prefix=UID_PREFIX, entropy_srcs=list(parts)))


def _dataset(info: DicomInfo, cols: int):
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    sop_uid = _uid(info.study_key, info.view, "sop")
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = DX_STORAGE
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = UID_PREFIX + "1"
    ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = DX_STORAGE, sop_uid
    ds.StudyInstanceUID = _uid(info.study_key, "study")
    ds.SeriesInstanceUID = _uid(info.study_key, info.view, "series")
    ds.Modality, ds.PresentationIntentType = "DX", "FOR PRESENTATION"
    ds.PatientName, ds.PatientID = f"PHANTOM^{info.study_key}", info.study_key
    ds.PatientSex, ds.PatientBirthDate = "O", ""
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = STUDY_DATE
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = "120000"
    ds.AccessionNumber, ds.StudyID = "", "1"
    ds.SeriesNumber, ds.InstanceNumber = 1, 1 if info.view == "frontal" else 2
    ds.Manufacturer, ds.InstitutionName = "echo-cxr", "Phantom CXR (synthetic)"
    ds.BodyPartExamined, ds.ViewPosition = "CHEST", VIEW_POSITION.get(info.view, "")
    ds.PatientOrientation = ["L", "F"] if info.view == "frontal" else ["P", "F"]
    ds.ImageType = ["DERIVED", "SECONDARY"]
    ds.BurnedInAnnotation = "NO"
    spacing = f"{FIELD_OF_VIEW_MM / cols:.6f}"
    ds.PixelSpacing = ds.ImagerPixelSpacing = [spacing, spacing]
    return ds


def write_dicom(path: Path, picture: np.ndarray, info: DicomInfo) -> None:
    """A DX DICOM file of a [0, 1] picture (16 bits allocated, ``bits_stored`` used)."""
    rows, cols = picture.shape
    values = quantise(picture, info.bits_stored).astype(np.uint16)
    top = (1 << info.bits_stored) - 1
    if info.monochrome == 1:
        values = (top - values).astype(np.uint16)
    ds = _dataset(info, cols)
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = f"MONOCHROME{info.monochrome}"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, info.bits_stored, info.bits_stored - 1
    ds.PixelRepresentation = 0
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = "0", "1", "US"
    ds.WindowCenter, ds.WindowWidth = str((top + 1) // 2), str(top + 1)
    ds.PixelData = values.astype("<u2").tobytes()
    ds.save_as(path, enforce_file_format=True)


def write_view(path: Path, picture: np.ndarray, image_format: str, bit_depth: int,
               compress_level: int, info: DicomInfo) -> None:
    """Write one view in the configured format (suffix of ``path`` chosen by the caller)."""
    if image_format == "dicom":
        write_dicom(path, picture, info)
    else:
        write_png(path, picture, bit_depth, compress_level)


def read_view(path: str | Path) -> np.ndarray:
    """A written view back as a [0, 1] float64 picture (1 = dense), whatever its format."""
    path = Path(path)
    if not path.is_file():
        raise EchoError(f"image not found: {path}")
    if path.suffix.lower() in (".dcm", ".dicom"):
        import pydicom

        ds = pydicom.dcmread(path)
        values = ds.pixel_array.astype(np.float64)
        top = float((1 << int(ds.BitsStored)) - 1)
        if ds.PhotometricInterpretation == "MONOCHROME1":
            values = top - values
        return values / top
    with Image.open(path) as image:
        values = np.asarray(image)
        bits = 16 if values.dtype != np.uint8 else 8
    return values.astype(np.float64) / float((1 << bits) - 1)
