"""DICOM input: rescale, VOI LUT / windows, MONOCHROME1, 8-16 bit, color; refusals with one line."""

from __future__ import annotations

import io

import numpy as np
import pytest

from echo_cxr.errors import EchoError
from echo_cxr.imaging import EncodedImage, ImageLimits, load_image
from tests.imaging.dicom_files import BASIC_TEXT_SR, dataset, write

RAMP = np.tile(np.arange(64, dtype=np.uint16) * 64, (40, 1))  # (40, 64), 0..4032: a 12-bit ramp


def display(path) -> np.ndarray:
    values = np.asarray(load_image(path))
    assert (values[..., 0] == values[..., 2]).all()
    return values[..., 0].astype(int)


def test_full_range_without_window_and_monochrome1_inversion(tmp_path):
    plain = display(write(tmp_path / "m2.dcm", RAMP, bits_stored=12))
    assert plain[0, 0] == 0 and plain[0, -1] == 255
    assert (plain[0] == np.round(np.arange(64) / 63 * 255)).all()
    inverted = display(write(tmp_path / "m1.dcm", RAMP, bits_stored=12, photometric="MONOCHROME1"))
    assert (inverted == 255 - plain).all()
    for name, photometric in (("m1i.dcm", "MONOCHROME1"), ("m2i.dcm", "MONOCHROME2")):
        shaped = write(tmp_path / name, RAMP, bits_stored=12, photometric=photometric, PresentationLUTShape="INVERSE")
        assert (display(shaped) == inverted).all(), name  # one inversion, whichever way it is stated


def test_linear_window(tmp_path):
    # LINEAR (PS3.3 C.11.2.1.2.1), c = 1000, w = 1001: values <= 499.5 -> 0, > 1499.5 -> 255,
    # between: ((x - 999.5) / 1000 + 0.5) * 255. x = 512 (column 8) -> 0.0125 * 255 = 3.2 -> 3;
    # x = 1024 (column 16) -> 0.5245 * 255 = 133.7 -> 134.
    got = display(write(tmp_path / "w.dcm", RAMP, bits_stored=12, WindowCenter="1000", WindowWidth="1001"))
    assert got[0, 7] == 0 and got[0, 8] == 3 and got[0, 16] == 134 and got[0, 24] == 255
    assert got[0, 23] == round(((1472 - 999.5) / 1000 + 0.5) * 255)


def test_rescale_then_window_in_rescaled_units(tmp_path):
    # stored 1024 -> 2 * 1024 - 2048 = 0 HU-like; window c = 0, w = 2001 over [-1000, 1000]
    got = display(write(tmp_path / "r.dcm", RAMP, bits_stored=12, RescaleSlope="2", RescaleIntercept="-2048",
                        WindowCenter="0", WindowWidth="2001"))
    assert got[0, 16] == round(((0 + 0.5) / 2000 + 0.5) * 255)  # 128
    assert got[0, 8] == 0 and got[0, 24] == 255  # stored 512 -> -1024, 1536 -> 1024: outside


def test_linear_exact_and_sigmoid_functions(tmp_path):
    exact = display(write(tmp_path / "e.dcm", RAMP, bits_stored=12, WindowCenter="1024", WindowWidth="1024",
                          VOILUTFunction="LINEAR_EXACT"))
    assert exact[0, 8] == 0 and exact[0, 16] == 128 and exact[0, 24] == 255 and exact[0, 12] == 64
    sigmoid = display(write(tmp_path / "s.dcm", RAMP, bits_stored=12, WindowCenter="1024", WindowWidth="1024",
                            VOILUTFunction="SIGMOID"))
    assert sigmoid[0, 16] == 128 and sigmoid[0, 24] == round(255 / (1 + np.exp(-4 * 512 / 1024)))


def test_voi_lut_sequence_wins_over_the_window(tmp_path):
    from pydicom.dataset import Dataset

    lut = Dataset()
    lut.LUTDescriptor = [4096, 0, 12]
    lut.LUTData = [4095 - i for i in range(4096)]  # an inverting LUT over the stored range
    lut["LUTData"].VR = "US"
    got = display(write(tmp_path / "lut.dcm", RAMP, bits_stored=12, VOILUTSequence=[lut],
                        WindowCenter="100", WindowWidth="10"))
    assert (got[0] == np.round((4095 - RAMP[0]) / 4095 * 255)).all()


def test_bit_depths_signed_and_color(tmp_path):
    eight = display(write(tmp_path / "8.dcm", (RAMP // 16).astype(np.uint8)))
    assert eight[0, 0] == 0 and eight[0, -1] == 255
    signed = display(write(tmp_path / "s.dcm", RAMP.astype(np.int16) - 2000, signed=True))
    assert (signed == display(write(tmp_path / "u.dcm", RAMP, bits_stored=12))).all()
    rgb = np.stack([(RAMP // 16).astype(np.uint8)] * 3, axis=-1)
    assert (np.asarray(load_image(write(tmp_path / "rgb.dcm", rgb, photometric="RGB"))) == rgb).all()


def test_phantom_dicoms_read_like_their_pictures(tmp_path):
    from echo_cxr.phantom.io import DicomInfo, write_dicom

    picture = np.linspace(0.0, 1.0, 64 * 48).reshape(48, 64)
    views = []
    for monochrome in (1, 2):
        path = tmp_path / f"p{monochrome}.dcm"
        write_dicom(path, picture, DicomInfo("phantom-test", monochrome=monochrome, bits_stored=12))
        views.append(display(path))
    # the phantom's window (c = 2048, w = 4096, LINEAR) spans the stored range: display ~ picture * 255
    assert (views[0] == views[1]).all() and np.abs(views[1] - picture * 255).max() <= 1


def test_preamble_less_file_and_upload_bytes(tmp_path):
    import pydicom
    from pydicom.dataset import FileMetaDataset

    ds = dataset(RAMP, bits_stored=12)
    ds.preamble, ds.file_meta = None, FileMetaDataset()  # an old-style file: the data set alone
    buffer = io.BytesIO()
    pydicom.dcmwrite(buffer, ds, implicit_vr=True, little_endian=True, enforce_file_format=False)
    assert buffer.getvalue()[128:132] != b"DICM"
    (tmp_path / "raw.dcm").write_bytes(buffer.getvalue())
    expected = display(write(tmp_path / "ok.dcm", RAMP, bits_stored=12))
    assert (display(tmp_path / "raw.dcm") == expected).all()
    assert (np.asarray(load_image(EncodedImage((tmp_path / "ok.dcm").read_bytes(), "ok.dcm")))[..., 0] == expected).all()


def refused_files(tmp_path) -> dict[str, tuple]:
    """name -> (path, expected message part)."""
    (tmp_path / "not_dicom.dcm").write_bytes(b"just some text that claims to be DICOM " * 8)
    big = np.zeros((40, 64), np.uint16)
    return {
        "no_pixels.dcm": (write(tmp_path / "no_pixels.dcm", None, sop_class=BASIC_TEXT_SR),
                          "holds no image (no pixel data; Basic Text SR"),
        "multi.dcm": (write(tmp_path / "multi.dcm", np.concatenate([RAMP] * 3), bits_stored=12, NumberOfFrames=3,
                            Rows=40), "multi-frame (3 frames)"),
        "private.dcm": (write(tmp_path / "private.dcm", RAMP, syntax="1.2.3.4.5"), "transfer syntax 1.2.3.4.5, which is unknown"),
        "jpegls.dcm": (write(tmp_path / "jpegls.dcm", RAMP, syntax="1.2.840.10008.1.2.4.80", frames=[b"\xff\xd8\xff"]),
                       "cannot decode the pixel data"),
        "mpeg2.dcm": (write(tmp_path / "mpeg2.dcm", (RAMP // 16).astype(np.uint8), syntax="1.2.840.10008.1.2.4.100",
                            frames=[b"\0\0\1\xb3"]), "(MPEG2 Main Profile / Main Level), which has no image decoder"),
        "jpeg_broken.dcm": (write(tmp_path / "jpeg_broken.dcm", (RAMP // 16).astype(np.uint8),
                                  syntax="1.2.840.10008.1.2.4.50", frames=[b"\xff\xd8 not a jpeg"]),
                            "cannot decode the pixel data"),
        "bomb.dcm": (write(tmp_path / "bomb.dcm", big, Rows=60000, Columns=60000), "over the limit"),
        "one_pixel.dcm": (write(tmp_path / "one_pixel.dcm", np.zeros((1, 1), np.uint16)), "1x1 pixels"),
        "float.dcm": (write(tmp_path / "float.dcm", None, FloatPixelData=b"\0" * 16), "float pixel data"),
        "bits32.dcm": (write(tmp_path / "bits32.dcm", RAMP.astype(np.uint32)), "32 bits allocated"),
        "not_dicom.dcm": (tmp_path / "not_dicom.dcm", "not a DICOM file"),
        "truncated.dcm": (tmp_path / "truncated.dcm", "DICOM"),
        "hsv.dcm": (write(tmp_path / "hsv.dcm", RAMP, photometric="HSV"), "photometric interpretation HSV"),
    }


def test_every_refused_dicom_is_one_clear_error(tmp_path):
    cases = refused_files(tmp_path)
    (tmp_path / "truncated.dcm").write_bytes((tmp_path / "private.dcm").read_bytes()[:200])
    for name, (path, message) in cases.items():
        with pytest.raises(EchoError) as caught:
            load_image(path)
        text = str(caught.value)
        assert message in text and name in text and "\n" not in text, (name, text)


def test_compressed_pixel_data(tmp_path):
    """JPEG 2000 and RLE (lossless) read back exactly; JPEG baseline closely."""
    import io

    from PIL import Image
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEG2000Lossless, JPEGBaseline8Bit, RLELossless

    expected = display(write(tmp_path / "plain.dcm", RAMP, bits_stored=12))
    for syntax in (JPEG2000Lossless, RLELossless):
        ds = dataset(RAMP, bits_stored=12)
        ds.compress(syntax)
        ds.save_as(tmp_path / "c.dcm", enforce_file_format=True)
        assert (display(tmp_path / "c.dcm") == expected).all(), syntax.name
    eight = (RAMP // 16).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(eight).save(buffer, format="JPEG", quality=95)
    ds = dataset(eight, syntax=JPEGBaseline8Bit)
    ds.PixelData = encapsulate([buffer.getvalue()])
    ds["PixelData"].VR = "OB"
    ds.save_as(tmp_path / "jpeg.dcm", enforce_file_format=True)
    baseline = display(tmp_path / "jpeg.dcm")
    assert np.abs(baseline - display(write(tmp_path / "e.dcm", eight))).mean() < 3


def test_a_missing_decoder_names_what_to_install(tmp_path, monkeypatch):
    import pydicom.pixels

    class Unavailable:
        is_available = False
        missing_dependencies = ["pylibjpeg - requires pylibjpeg>=2.0 and pylibjpeg-libjpeg>=2.1"]

    monkeypatch.setattr(pydicom.pixels, "get_decoder", lambda syntax: Unavailable())
    path = write(tmp_path / "jpeg_lossless.dcm", RAMP, syntax="1.2.840.10008.1.2.4.70", frames=[b"\xff\xd8"])
    with pytest.raises(EchoError, match="compressed with JPEG Lossless.*needs an extra package: pylibjpeg"):
        load_image(path)


def test_dicom_size_is_checked_before_decoding(tmp_path):
    path = write(tmp_path / "ok.dcm", RAMP, bits_stored=12)
    with pytest.raises(EchoError, match="64x40 = 2560 pixels, over the limit of 2000"):
        load_image(path, ImageLimits(max_source_pixels=2000))
