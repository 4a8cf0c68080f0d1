"""Fixtures of the app tests: the default test model (random:tiny, seed 0: the weights the CLI
loads by default) and a folder of study files of every kind."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.conftest import make_image


@pytest.fixture(scope="session")
def tiny():
    from echo_cxr.model import load

    return load("random:tiny", seed=0)


@pytest.fixture(scope="session")
def files(tmp_path_factory):
    """name -> path of good study files: PNG frontal/lateral, JPEG, 16-bit PNG, DICOM."""
    from tests.imaging.dicom_files import write

    folder = tmp_path_factory.mktemp("study_files")
    out = {}
    for name, (seed, h, w) in {"frontal.png": (0, 80, 70), "lateral.png": (1, 64, 90)}.items():
        Image.fromarray(make_image(seed, h, w)).save(folder / name)
        out[name] = str(folder / name)
    Image.fromarray(make_image(2, 60, 60)).save(folder / "view.jpg", quality=90)
    out["view.jpg"] = str(folder / "view.jpg")
    Image.fromarray(make_image(3, 72, 72).astype(np.uint16) * 200).save(folder / "wide.png")
    out["wide.png"] = str(folder / "wide.png")
    ramp = np.tile(np.arange(64, dtype=np.uint16) * 64, (48, 1))
    out["view.dcm"] = str(write(folder / "view.dcm", ramp, bits_stored=12, photometric="MONOCHROME1",
                                WindowCenter="2048", WindowWidth="4096"))
    return out


@pytest.fixture(scope="session")
def bad_files(tmp_path_factory):
    """name -> (path, message part) of every broken input of the issue's list that is a file."""
    import struct
    import zlib

    from tests.imaging.dicom_files import BASIC_TEXT_SR, write

    folder = tmp_path_factory.mktemp("bad_files")
    Image.fromarray(make_image(4, 80, 80)).save(folder / "good.png")
    good = (folder / "good.png").read_bytes()
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)  # 10 gigapixels declared, ~100 bytes sent
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(64))) + chunk(b"IEND", b"")
    ramp = np.tile(np.arange(64, dtype=np.uint16) * 64, (40, 1))
    raw = {
        "text.png": (b"Findings: a text file, not a radiograph.\n", "not a PNG, JPEG or DICOM file"),
        "truncated.png": (good[: len(good) // 2], "truncated or corrupt PNG"),
        "empty.png": (b"", "the file is empty"),
        "bomb.png": (bomb, "over the limit of"),
    }
    out = {}
    for name, (data, message) in raw.items():
        (folder / name).write_bytes(data)
        out[name] = (str(folder / name), message)
    Image.new("L", (1, 1)).save(folder / "one_pixel.png")
    out["one_pixel.png"] = (str(folder / "one_pixel.png"), "1x1 pixels")
    out["no_pixels.dcm"] = (str(write(folder / "no_pixels.dcm", None, sop_class=BASIC_TEXT_SR)), "holds no image")
    out["multi_frame.dcm"] = (str(write(folder / "multi_frame.dcm", np.concatenate([ramp] * 2), NumberOfFrames=2,
                                        Rows=40)), "multi-frame (2 frames)")
    out["unknown_syntax.dcm"] = (str(write(folder / "unknown_syntax.dcm", ramp, syntax="1.2.3.4.5")),
                                 "transfer syntax 1.2.3.4.5, which is unknown")
    return out
