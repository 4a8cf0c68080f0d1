"""One phantom study written to disk, for ``echo-cxr generate --phantom SEED`` (a report on an
image whose truth is known, without building a data set)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from echo_cxr.phantom.config import PhantomConfig
from echo_cxr.phantom.io import write_png
from echo_cxr.phantom.study import generate_study

DEMO_INDEX = 0


@dataclass
class WrittenStudy:
    paths: list[Path]  # frontal first
    labels: list[dict]
    reference: dict  # language -> report text

    def truth_line(self) -> str:
        return json.dumps(self.labels, ensure_ascii=False) if self.labels else "normal study (no findings)"


def write_single_study(seed: int, folder: str | Path, lateral: bool = False) -> WrittenStudy:
    """Study (seed, 0) of the phantom, its views as PNGs (the generator's default format) in ``folder``."""
    config = PhantomConfig(lateral_prob=1.0 if lateral else 0.0)
    study = generate_study(seed, DEMO_INDEX, config)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for view, picture in study.views.items():
        path = folder / f"phantom-s{seed}-{view}.png"
        write_png(path, picture, config.bit_depth, config.png_compress_level)
        paths.append(path)
    return WrittenStudy(paths, [dict(label) for label in study.labels],
                        {lang: report.text for lang, report in study.reports.items()})
