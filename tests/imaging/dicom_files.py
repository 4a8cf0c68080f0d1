"""DICOM files built in code for the tests: every header variant the reader must handle."""

from __future__ import annotations

from pathlib import Path

import numpy as np

SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
BASIC_TEXT_SR = "1.2.840.10008.5.1.4.1.1.88.11"


def dataset(values: np.ndarray | None, *, photometric: str = "MONOCHROME2", bits_stored: int | None = None,
            signed: bool = False, syntax: str | None = None, sop_class: str = SECONDARY_CAPTURE, **attrs):
    """A FileDataset holding ``values`` (H, W) or (H, W, 3) as pixel data (None: no pixel data)."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = syntax or ExplicitVRLittleEndian
    ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, meta.MediaStorageSOPInstanceUID
    ds.Modality = "DX"
    if values is not None:
        allocated = values.dtype.itemsize * 8
        ds.Rows, ds.Columns = values.shape[:2]
        ds.SamplesPerPixel = 3 if values.ndim == 3 else 1
        if values.ndim == 3:
            ds.PlanarConfiguration = 0
        ds.PhotometricInterpretation = photometric
        ds.BitsAllocated, ds.BitsStored = allocated, bits_stored or allocated
        ds.HighBit = ds.BitsStored - 1
        ds.PixelRepresentation = 1 if signed else 0
        ds.PixelData = np.ascontiguousarray(values).astype(values.dtype.newbyteorder("<")).tobytes()
    for key, value in attrs.items():
        setattr(ds, key, value)
    return ds


def write(path: Path, values: np.ndarray | None, frames: list[bytes] | None = None, **kwargs) -> Path:
    """Save a test file; ``frames``: encapsulated (compressed) pixel data instead of ``values``' bytes.

    The data set body is always explicit VR little endian, as a vendor's private or compressed
    transfer syntax would have it.
    """
    from pydicom.encaps import encapsulate

    ds = dataset(values, **kwargs)
    if frames is not None:
        ds.PixelData = encapsulate(frames)
        ds["PixelData"].VR = "OB"
    ds.save_as(path, implicit_vr=False, little_endian=True, enforce_file_format=False, force_encoding=True)
    return path
