"""Contact sheet: a grid of frontal views with captions."""

from __future__ import annotations

from PIL import Image

from echo_cxr.phantom import PhantomConfig, contact_sheet, generate_study
from echo_cxr.phantom.contact_sheet import PAD, TILE


def test_grid_size_and_content(tmp_path):
    studies = [generate_study(1, i, PhantomConfig(image_size=128)) for i in range(6)]
    path = contact_sheet(studies, tmp_path / "sheet.png", cols=3)
    with Image.open(path) as sheet:
        assert sheet.width == 3 * (TILE + PAD) + PAD
        assert sheet.height > 2 * TILE
        pixels = sheet.convert("L").getextrema()
    assert pixels[1] - pixels[0] > 150  # pictures and text, not a blank page
    zh = contact_sheet(studies[:2], tmp_path / "zh.png", cols=2, lang="zh")
    assert zh.is_file()
