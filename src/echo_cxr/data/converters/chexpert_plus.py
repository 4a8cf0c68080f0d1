"""CheXpert-Plus (Stanford AIMI).

Layout::

    df_chexpert_plus_240401.csv   one row per image: path_to_image (train/patient00001/study1/
                                  view1_frontal.jpg), frontal_lateral (Frontal / Lateral), ap_pa,
                                  split (train / valid), section_findings, section_impression,
                                  report (full text) ...
    PNG/train/patient00001/study1/view1_frontal.png     (or PNG/PNG/..., or PNG/ without train/)

The CSV names ``.jpg`` files while the PNG release holds ``.png`` files: each reference is tried
with ``.png``, ``.jpg`` and its own suffix, under ``PNG/``, ``PNG/PNG/`` and the root, with and
without its leading split folder. A study is the folder of its images (``train/patient00001/
study1``; sample id ``chexpert-plus-train-patient00001-study1``); its rows need not be adjacent. When both section columns are empty the ``report``
column is parsed for its sections.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from echo_cxr.data.converters.base import Converter, official_split, sample_id
from echo_cxr.data.locate import PathResolver, find_one
from echo_cxr.data.records import SourceImage, SourceStudy, fixed_report
from echo_cxr.data.sections import clean_text, findings_and_impression
from echo_cxr.data.tables import csv_columns, grouped_rows, require_columns
from echo_cxr.data.views import first_known

CSV_NAMES = ("df_chexpert_plus_240401.csv", "df_chexpert_plus_*.csv", "df_chexpert_plus_*.csv.gz",
             "*chexpert*plus*.csv")
IMAGE_FOLDERS = ("PNG/PNG", "PNG", "png", "PNGs", "")
SUFFIXES = (".png", ".jpg", ".jpeg")
SPLIT_FOLDERS = {"train", "valid", "validate", "val", "test"}
_NUMBERED = re.compile(r"(patient\d+)/(study\d+)")


def _spellings(ref: str) -> list[str]:
    path = PurePosixPath(ref.replace("\\", "/").lstrip("/"))
    parts = path.parts
    if parts and parts[0].lower() == "png":
        parts = parts[1:]
    stems = [PurePosixPath(*parts)]
    if len(parts) > 1 and parts[0].lower() in SPLIT_FOLDERS:
        stems.append(PurePosixPath(*parts[1:]))
    return [str(stem.with_suffix(suffix)) for stem in stems for suffix in (*SUFFIXES, stem.suffix) if stem.name]


def study_key(ref: str) -> str | None:
    """The folder of an image reference (``train/patient00001/study1``); None for an empty one."""
    path = PurePosixPath(ref.strip().replace("\\", "/"))
    return str(path.parent) if ref.strip() and str(path.parent) not in ("", ".") else None


class ChexpertPlus(Converter):
    name = "chexpert-plus"

    def __init__(self, config):
        super().__init__(config)
        self.table = find_one(self.root, CSV_NAMES, "CheXpert-Plus table (df_chexpert_plus_240401.csv)")
        self.columns = require_columns(self.table, {"path": ("path_to_image", "path_to_png", "path")})
        present = set(csv_columns(self.table))
        optional = {"view": "frontal_lateral", "ap_pa": "ap_pa", "split": "split", "findings": "section_findings",
                    "impression": "section_impression", "report": "report"}
        self.columns.update({role: name for role, name in optional.items() if name in present})
        bases = [self.root / f for f in IMAGE_FOLDERS] + [self.table.parent / f for f in IMAGE_FOLDERS]
        self.images = PathResolver(bases, _spellings)
        self._groups = grouped_rows(self.table, lambda row: study_key(row[self.columns["path"]]))

    def sources(self) -> dict[str, str]:
        return {"table": str(self.table)}

    def split_source(self) -> str:
        return f"official ({self.columns.get('split', 'first folder of path_to_image')})"

    def count(self) -> int:
        return self._groups[0]

    def _get(self, row: dict, role: str) -> str:
        return row.get(self.columns.get(role, ""), "") or ""

    def _report(self, rows: list[dict]):
        for row in rows:  # the report is per study; the first row with text is used
            findings, impression = clean_text(self._get(row, "findings")), clean_text(self._get(row, "impression"))
            if findings or impression:
                return fixed_report(findings, impression)
        for row in rows:
            findings, impression = findings_and_impression(self._get(row, "report"))
            if findings or impression:
                return fixed_report(findings, impression)
        return fixed_report("", "")

    def _split(self, key: str, rows: list[dict]):
        split = official_split(self._get(rows[0], "split"))
        first = PurePosixPath(key).parts[0].lower() if PurePosixPath(key).parts else ""
        return split or (official_split(first) if first in SPLIT_FOLDERS else None)

    def studies(self) -> Iterator[SourceStudy]:
        for key, rows in self._groups[1]:
            images = []
            for row in rows:
                view, raw = first_known(self._get(row, "view"), self._get(row, "ap_pa"))
                images.append(SourceImage(row[self.columns["path"]].strip(), view, raw))
            numbered, parts = _NUMBERED.search(key), PurePosixPath(key).parts
            folder = (parts[0],) if parts[0].lower() in SPLIT_FOLDERS else ()
            ids = (*folder, *numbered.groups()) if numbered else (key,)
            yield SourceStudy(sample_id(self.name, *ids), self._split(key, rows), images, self._report(rows),
                              {"study_path": key})

    def resolve_image(self, ref: str) -> Path | None:
        return self.images(ref)
