"""MIMIC-CXR-JPG images + MIMIC-CXR free-text reports.

Layout (PhysioNet, MIMIC-CXR-JPG 2.0.0 / 2.1.0; any nesting above it)::

    mimic-cxr-2.0.0-metadata.csv.gz   dicom_id, subject_id, study_id, ViewPosition,
                                      ViewCodeSequence_CodeMeaning, ... (one row per image)
    mimic-cxr-2.0.0-split.csv.gz      dicom_id, study_id, subject_id, split (train/validate/test)
    files/pXX/pSUBJECT/sSTUDY/DICOM_ID.jpg

Reports come from MIMIC-CXR (``mimic-cxr-reports.zip``) as ``files/pXX/pSUBJECT/sSTUDY.txt``:
beside the images, in a ``mimic-cxr-reports/`` folder under the root, or in ``--reports DIR``.
Their Findings / Impression are parsed by ``echo_cxr.data.sections``. Without the metadata file
the split file's rows (dicom_id, study_id, subject_id) list the images, all of ``unknown`` view. Images are written with
the extension found on disk (``.jpg``; ``.png`` / ``.dcm`` are tried too). Studies come in the
order of their first row in the metadata file; the metadata index (a few hundred bytes per
image) is the only table held in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from echo_cxr.data.converters.base import Converter, official_split, plain_id, read_text_file, sample_id
from echo_cxr.data.locate import PathResolver, find_files, find_one
from echo_cxr.data.records import REPORT_MISSING, Report, ReportProblem, SourceImage, SourceStudy
from echo_cxr.data.sections import findings_and_impression
from echo_cxr.data.tables import read_csv, require_columns
from echo_cxr.data.views import first_known
from echo_cxr.errors import EchoError

METADATA = ("mimic-cxr-2.0.0-metadata.csv.gz", "mimic-cxr-2.0.0-metadata.csv", "mimic-cxr-*-metadata.csv*")
SPLITS = ("mimic-cxr-2.0.0-split.csv.gz", "mimic-cxr-2.0.0-split.csv", "mimic-cxr-*-split.csv*")
REPORT_FOLDERS = ("mimic-cxr-reports", "reports", "mimic-cxr")
IMAGE_EXTENSIONS = (".jpg", ".png", ".dcm")
VIEW_COLUMNS = ("viewposition", "view_position")
VIEW_MEANING_COLUMNS = ("viewcodesequence_codemeaning",)
GROUP_DIGITS = 2  # files/p10/... : the first two digits of the subject id


def _folder(subject: str, study: str) -> str:
    return f"files/p{subject[:GROUP_DIGITS]}/p{subject}/s{study}"


class MimicCxr(Converter):
    name = "mimic-cxr"

    def __init__(self, config):
        super().__init__(config)
        self.split_file = find_one(self.root, SPLITS, "MIMIC-CXR-JPG split file")
        found = find_files(self.root, METADATA)
        self.metadata = found[0] if found else self.split_file  # without it: same images, views unknown
        self.columns = require_columns(self.metadata, {"dicom": ("dicom_id",), "subject": ("subject_id",),
                                                       "study": ("study_id",)})
        base = self.metadata.parent
        self.images = PathResolver([base, self.root, base.parent],
                                   lambda ref: [ref + ext for ext in IMAGE_EXTENSIONS])
        self.reports = PathResolver(self._report_bases(base), lambda ref: [ref, ref.split("/", 1)[1]])
        self._index: dict[str, dict] | None = None
        self._splits: dict[str, str] | None = None

    def _report_bases(self, base: Path) -> list[Path]:
        given = [Path(self.config.reports)] if self.config.reports else []
        if given and not given[0].is_dir():
            raise EchoError(f"reports folder not found: {given[0]}")
        nested = [self.root / name for name in REPORT_FOLDERS] + [base / name for name in REPORT_FOLDERS]
        return [*given, *[g.parent for g in given if g.name == "files"], base, self.root, *nested]

    def sources(self) -> dict[str, str]:
        return {"metadata": str(self.metadata), "split": str(self.split_file),
                "reports": ", ".join(str(b) for b in self.reports.bases if b.is_dir())}

    def split_source(self) -> str:
        return f"official ({self.split_file.name})"

    def _load(self) -> dict[str, dict]:
        if self._index is None:
            index: dict[str, dict] = {}
            views = (*VIEW_COLUMNS, *VIEW_MEANING_COLUMNS)
            for row in read_csv(self.metadata):
                study, subject = plain_id(row[self.columns["study"]]), plain_id(row[self.columns["subject"]])
                entry = index.setdefault(study, {"subject": subject, "images": []})
                category, raw = first_known(*[row.get(c) for c in views])
                entry["images"].append(SourceImage(f"{_folder(subject, study)}/{row[self.columns['dicom']].strip()}",
                                                   category, raw))
            self._index = index
            self._splits = self._read_splits()
        return self._index

    def _read_splits(self) -> dict[str, str]:
        columns = require_columns(self.split_file, {"study": ("study_id",), "split": ("split",)})
        splits: dict[str, str] = {}
        for row in read_csv(self.split_file):
            splits.setdefault(plain_id(row[columns["study"]]), official_split(row[columns["split"]]))
        return splits

    def count(self) -> int:
        return len(self._load())

    def studies(self) -> Iterator[SourceStudy]:
        for study, entry in self._load().items():
            subject = entry["subject"]
            yield SourceStudy(sample_id(self.name, f"p{subject}", f"s{study}"), self._splits.get(study),
                              entry["images"], self._report_reader(subject, study),
                              {"subject_id": subject, "study_id": study})

    def _report_reader(self, subject: str, study: str):
        ref = f"{_folder(subject, study)}.txt"

        def read() -> Report:
            path = self.reports(ref)
            if path is None:
                raise ReportProblem(REPORT_MISSING, ref)
            return Report(*findings_and_impression(read_text_file(path)))

        return read

    def resolve_image(self, ref: str) -> Path | None:
        return self.images(ref)

