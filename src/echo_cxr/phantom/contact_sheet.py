"""Contact sheet: a PNG grid of phantom frontal views, each captioned with its impression.

Drawn with PIL only. Chinese captions need a CJK font; one is looked for among common font
paths and with ``fc-list :lang=zh``; without one, captions fall back to English.
"""

from __future__ import annotations

import subprocess
import textwrap
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from echo_cxr.errors import EchoError
from echo_cxr.phantom.io import read_view
from echo_cxr.phantom.study import Study

TILE = 224
CAPTION_LINES = 4
FONT_SIZE = 12
PAD = 4
LATIN_FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",)
CJK_FONTS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
             "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
             "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
BACKGROUND, INK = 24, 235
WRAP_EN, WRAP_ZH = 34, 17  # characters per caption line


@lru_cache(maxsize=None)
def find_cjk_font() -> str | None:
    """Path of a font that can draw Chinese, or None."""
    for path in CJK_FONTS:
        if Path(path).is_file():
            return path
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True,
                             timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    files = [line.split(":")[0].strip() for line in out.splitlines() if line.strip()]
    return files[0] if files else None


def _font(lang: str) -> tuple[ImageFont.ImageFont, str]:
    if lang == "zh" and find_cjk_font():
        return ImageFont.truetype(find_cjk_font(), FONT_SIZE), "zh"
    for path in LATIN_FONTS:
        if Path(path).is_file():
            return ImageFont.truetype(path, FONT_SIZE), "en"
    return ImageFont.load_default(), "en"


def _tile(picture: np.ndarray) -> Image.Image:
    values = (np.clip(picture, 0, 1) * 255 + 0.5).astype(np.uint8)
    return Image.fromarray(values).resize((TILE, TILE), Image.Resampling.BILINEAR)


def _caption(text: str, lang: str) -> list[str]:
    width = WRAP_ZH if lang == "zh" else WRAP_EN
    lines = textwrap.wrap(text, width=width) if lang == "en" else [
        text[i:i + width] for i in range(0, len(text), width)]
    if len(lines) > CAPTION_LINES:
        lines = lines[:CAPTION_LINES]
        lines[-1] = lines[-1][: max(0, len(lines[-1]) - 1)] + "…"
    return lines


def draw_sheet(items: Sequence[tuple[np.ndarray, str]], cols: int, lang: str) -> Image.Image:
    """Grid of (picture, impression) pairs. Returns an 8-bit grayscale image."""
    if not items:
        raise EchoError("contact sheet needs at least one image")
    font, used = _font(lang)
    line_h = FONT_SIZE + 3
    cell_h = TILE + PAD + CAPTION_LINES * line_h + PAD
    rows = (len(items) + cols - 1) // cols
    sheet = Image.new("L", (cols * (TILE + PAD) + PAD, rows * cell_h + PAD), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    for k, (picture, caption) in enumerate(items):
        x, y = PAD + (k % cols) * (TILE + PAD), PAD + (k // cols) * cell_h
        sheet.paste(_tile(picture), (x, y))
        for j, line in enumerate(_caption(caption, used)):
            draw.text((x + 2, y + TILE + PAD + j * line_h), line, fill=INK, font=font)
    return sheet


def contact_sheet(studies: Sequence[Study], out_path: str | Path, cols: int = 4,
                  lang: str = "en") -> Path:
    """Save a contact sheet of the studies' frontal views and impressions; return its path.

    ``lang="zh"`` captions in Chinese when a CJK font is installed, else in English.
    """
    _, used = _font(lang)
    items = [(s.views["frontal"], s.reports[used].impression) for s in studies if s.views]
    return _save(draw_sheet(items, cols, used), out_path)


def contact_sheet_from_dataset(samples: Sequence[dict], out_path: str | Path, n: int = 16,
                               cols: int = 4) -> Path:
    """Contact sheet of the first ``n`` samples of a loaded data set (``load_dataset``)."""
    items = []
    for sample in samples[:n]:
        caption = sample["ground_truth"]["impression"]
        lang = "zh" if sample.get("language") == "zh" else "en"
        if lang == "zh" and not find_cjk_font():
            caption = "(ZH) " + ", ".join(label["finding"] for label in sample.get("labels", [])) \
                if sample.get("labels") else "(ZH) normal"
        items.append((read_view(sample["images"][0]), caption))
    return _save(draw_sheet(items, cols, "zh" if find_cjk_font() else "en"), out_path)


def _save(sheet: Image.Image, out_path: str | Path) -> Path:
    path = Path(out_path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        sheet.save(path, format="PNG", optimize=True)
    except OSError as err:
        raise EchoError(f"cannot write contact sheet {path}: {err.strerror or err}") from None
    return path
