"""16-bit PNG and DICOM outputs read back (PIL / pydicom) as the same picture."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from PIL import Image

from echo_cxr.phantom import PhantomConfig, generate_study, read_view
from echo_cxr.phantom.io import DicomInfo, quantise, write_dicom, write_png


@pytest.fixture(scope="module")
def picture() -> np.ndarray:
    study = generate_study(12, 3, PhantomConfig(image_size=192),
                           labels=[{"finding": "pacemaker", "laterality": "left"}])
    return study.views["frontal"]


def test_png_16_bit_round_trip(picture, tmp_path):
    path = tmp_path / "view.png"
    write_png(path, picture, 16, 1)
    with Image.open(path) as image:
        assert image.mode.startswith("I") and image.size == (192, 192)
        stored = np.asarray(image)
    assert np.array_equal(stored.astype(np.uint16), quantise(picture, 16))
    assert np.abs(read_view(path) - picture).max() <= 0.5 / 65535 + 1e-6


def test_png_8_bit_is_the_same_picture(picture, tmp_path):
    write_png(tmp_path / "v8.png", picture, 8, 1)
    write_png(tmp_path / "v16.png", picture, 16, 1)
    gap = np.abs(read_view(tmp_path / "v8.png") - read_view(tmp_path / "v16.png")).max()
    assert gap <= 0.5 / 255 + 1e-6


@pytest.mark.parametrize("monochrome", [1, 2])
def test_dicom_round_trip(picture, tmp_path, monochrome):
    path = tmp_path / f"view_m{monochrome}.dcm"
    write_dicom(path, picture, DicomInfo("phantom-s12-test-000003", "frontal", monochrome, 12))
    ds = pydicom.dcmread(path)
    assert ds.Modality == "DX" and ds.BodyPartExamined == "CHEST" and ds.ViewPosition == "PA"
    assert ds.PhotometricInterpretation == f"MONOCHROME{monochrome}"
    assert (ds.BitsAllocated, ds.BitsStored, ds.HighBit) == (16, 12, 11)
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.1.1"
    raw = ds.pixel_array.astype(np.int64)
    expected = quantise(picture, 12).astype(np.int64)
    assert np.array_equal(raw, expected if monochrome == 2 else 4095 - expected)
    assert np.abs(read_view(path) - picture).max() <= 0.5 / 4095 + 1e-6


def test_dicom_uids_are_deterministic(picture, tmp_path):
    info = DicomInfo("phantom-s1-train-000001", "lateral", 2, 12)
    write_dicom(tmp_path / "a.dcm", picture, info)
    write_dicom(tmp_path / "b.dcm", picture, info)
    assert (tmp_path / "a.dcm").read_bytes() == (tmp_path / "b.dcm").read_bytes()
    assert pydicom.dcmread(tmp_path / "a.dcm").ViewPosition == "LL"
