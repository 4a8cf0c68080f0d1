"""PNG/JPEG input: every mode a radiograph file may use, and every broken file, as one EchoError."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from echo_cxr.errors import EchoError
from echo_cxr.imaging import EncodedImage, ImageLimits, load_image, load_study_images
from tests.conftest import make_image

GRAY = make_image(0, 60, 80)  # (H, W) uint8


def gray_of(image: Image.Image) -> np.ndarray:
    values = np.asarray(image)
    assert image.mode == "RGB" and (values[..., 0] == values[..., 1]).all() and (values[..., 1] == values[..., 2]).all()
    return values[..., 0]


def saved(tmp_path, image: Image.Image, name: str, **kwargs) -> str:
    path = tmp_path / name
    image.save(path, **kwargs)
    return str(path)


def test_8_bit_gray_png_is_read_exactly(tmp_path):
    assert (gray_of(load_image(saved(tmp_path, Image.fromarray(GRAY), "g.png"))) == GRAY).all()


def test_16_bit_png_is_stretched_to_its_range(tmp_path):
    wide = (GRAY.astype(np.uint16) * 16 + 1000).astype(np.uint16)  # a 12-bit detector range
    path = saved(tmp_path, Image.fromarray(wide), "g16.png")
    assert Image.open(path).mode.startswith("I;16")
    low, high = wide.min(), wide.max()
    expected = np.round((wide - float(low)) / float(high - low) * 255).astype(np.uint8)
    assert (gray_of(load_image(path)) == expected).all()


def test_one_bit_palette_and_rgb_pngs(tmp_path):
    binary = GRAY > 128
    assert (gray_of(load_image(saved(tmp_path, Image.fromarray(binary), "b.png"))) == binary * 255).all()
    palette = Image.fromarray(GRAY).convert("P")
    assert (gray_of(load_image(saved(tmp_path, palette, "p.png"))) == np.asarray(palette.convert("L"))).all()
    rgb = np.stack([GRAY, GRAY // 2, 255 - GRAY], axis=-1)
    assert (np.asarray(load_image(saved(tmp_path, Image.fromarray(rgb), "rgb.png"))) == rgb).all()


def test_alpha_is_composited_on_black(tmp_path):
    alpha = np.where(np.arange(80) < 40, 0, 255).astype(np.uint8)[None].repeat(60, 0)
    la = Image.fromarray(np.stack([GRAY, alpha], -1), mode="LA")
    got = gray_of(load_image(saved(tmp_path, la, "la.png")))
    assert (got[:, :40] == 0).all() and (got[:, 40:] == GRAY[:, 40:]).all()
    rgba = Image.fromarray(np.stack([GRAY, GRAY, GRAY, alpha], -1), mode="RGBA")
    assert (gray_of(load_image(saved(tmp_path, rgba, "rgba.png"))) == got).all()
    palette = Image.fromarray(GRAY).convert("P")
    transparent = int(np.asarray(palette)[0, 0])
    got = gray_of(load_image(saved(tmp_path, palette, "pt.png", transparency=transparent)))
    assert (got[np.asarray(palette) == transparent] == 0).all() and got.max() > 0


def test_jpeg_gray_cmyk_and_exif_orientation(tmp_path):
    got = gray_of(load_image(saved(tmp_path, Image.fromarray(GRAY), "g.jpg", quality=95)))
    assert got.shape == GRAY.shape and np.abs(got.astype(int) - GRAY).mean() < 8
    cmyk = load_image(saved(tmp_path, Image.fromarray(GRAY).convert("CMYK"), "c.jpg"))
    assert cmyk.mode == "RGB" and cmyk.size == (80, 60)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display
    assert load_image(saved(tmp_path, Image.fromarray(GRAY), "r.jpg", exif=exif)).size == (60, 80)


def test_in_memory_sources(tmp_path):
    path = saved(tmp_path, Image.fromarray(GRAY), "g.png")
    data = open(path, "rb").read()
    for source in (EncodedImage(data, "upload.png"), data, Image.fromarray(GRAY), GRAY):
        assert (gray_of(load_image(source)) == GRAY).all()
    wide = GRAY.astype(np.float32) / 7.0
    assert (gray_of(load_image(wide)) == np.round((wide - wide.min()) / np.ptp(wide) * 255)).all()
    with pytest.raises(EchoError, match="expected a"):
        load_image(np.zeros((4, 40, 40, 3), dtype=np.uint8))


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header declares ``width`` x ``height`` 8-bit gray pixels, with almost no data."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def jpeg_declaring(width: int, height: int) -> bytes:
    """A real small JPEG with its SOF0 frame header patched to declare another size."""
    import io

    buffer = io.BytesIO()
    Image.fromarray(GRAY).save(buffer, format="JPEG")
    data = bytearray(buffer.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def broken_files(tmp_path) -> dict[str, tuple[str, str]]:
    """name -> (path, expected message part)."""
    good_png = open(saved(tmp_path, Image.fromarray(GRAY), "good.png"), "rb").read()
    good_jpg = open(saved(tmp_path, Image.fromarray(make_image(5, 300, 300)), "good.jpg"), "rb").read()
    files = {
        "text.png": (b"Findings: this is a text file, not an image.\n", "not a PNG, JPEG or DICOM file"),
        "truncated.png": (good_png[: len(good_png) // 2], "truncated or corrupt PNG"),
        "truncated.jpg": (good_jpg[: len(good_jpg) // 2], "truncated or corrupt JPEG"),
        "header_only.png": (good_png[:20], "not a valid PNG"),
        "empty.png": (b"", "the file is empty"),
        "bomb.png": (png_declaring(200_000, 200_000), "over the limit"),
        "bomb.jpg": (jpeg_declaring(60_000, 60_000), "over the limit"),
        "strip.png": (png_declaring(10_000, 30), "aspect ratio"),
        "animation.gif": (b"GIF89a" + bytes(64), "not a PNG, JPEG or DICOM file"),
    }
    out = {}
    for name, (data, message) in files.items():
        (tmp_path / name).write_bytes(data)
        out[name] = (str(tmp_path / name), message)
    tiny = saved(tmp_path, Image.new("L", (1, 1)), "one_pixel.png")
    out["one_pixel.png"] = (tiny, "1x1 pixels")
    (tmp_path / "folder.png").mkdir()
    out["folder.png"] = (str(tmp_path / "folder.png"), "is a directory")
    out["missing.png"] = (str(tmp_path / "missing.png"), "image not found")
    return out


def test_every_broken_file_is_one_clear_error(tmp_path):
    for name, (path, message) in broken_files(tmp_path).items():
        with pytest.raises(EchoError) as caught:
            load_image(path)
        text = str(caught.value)
        assert message in text and name in text and "\n" not in text, (name, text)


def test_study_budget(tmp_path):
    path = saved(tmp_path, Image.fromarray(GRAY), "g.png")
    limits = ImageLimits(max_images=2, max_bytes=10_000_000)
    assert len(load_study_images([path, path], limits)) == 2
    with pytest.raises(EchoError, match="too many images for one study: 3 \\(at most 2\\)"):
        load_study_images([path] * 3, limits)
    with pytest.raises(EchoError, match="at least one image"):
        load_study_images([], limits)
    with pytest.raises(EchoError, match="over the limit of 100 bytes per image"):
        load_image(path, ImageLimits(max_bytes=100))
    with pytest.raises(EchoError, match="over the limit of 1000 pixels"):
        load_image(path, ImageLimits(max_source_pixels=1000))
    with pytest.raises(EchoError, match="must be at least 1"):
        ImageLimits(max_images=0)
