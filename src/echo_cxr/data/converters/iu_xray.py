"""IU X-ray (Indiana University chest X-rays, OpenI), in either of its two common layouts.

OpenI (NLM) download::

    ecgen-radiology/1.xml ...      <uId id="CXR1"/>, <AbstractText Label="FINDINGS">...</AbstractText>,
                                   <AbstractText Label="IMPRESSION">, <parentImage id="CXR1_1_IM-0001-3001">
    NLMCXR_png/CXR1_1_IM-0001-3001.png

Kaggle re-packaging (``chest-xrays-indiana-university``)::

    indiana_reports.csv            uid, MeSH, Problems, image, indication, comparison, findings, impression
    indiana_projections.csv        uid, filename (1_IM-0001-4001.dcm.png), projection (Frontal / Lateral)
    images/images_normalized/1_IM-0001-4001.dcm.png

The CSV layout is used when ``indiana_reports.csv`` is present (it names each image's view); the
XML files name no views, so their images are of ``unknown`` view, in the order listed. Images are
found by file name anywhere under the root. IU X-ray has no official split: studies are split by a
hash of their id (``ConvertConfig.split_fractions``; R2Gen's 7:1:2 by default).
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from pathlib import Path

from echo_cxr.data.converters.base import Converter, hash_split, sample_id
from echo_cxr.data.locate import find_files, image_index, strip_image_suffixes
from echo_cxr.data.records import REPORT_UNREADABLE, Report, ReportProblem, SourceImage, SourceStudy, fixed_report
from echo_cxr.data.sections import clean_text
from echo_cxr.data.tables import read_csv, require_columns
from echo_cxr.data.views import UNKNOWN, classify_view
from echo_cxr.errors import EchoError

REPORTS_CSV = ("indiana_reports.csv", "*indiana_reports*.csv")
PROJECTIONS_CSV = ("indiana_projections.csv", "*indiana_projections*.csv")
XML_PATTERNS = ("*.xml",)
OPENI_PREFIX = "CXR"  # OpenI's uId "CXR1" is the Kaggle tables' uid 1: both give sample id iu-xray-1
XML_LABELS = {"findings": "FINDINGS", "impression": "IMPRESSION"}


def read_openi_xml(path: Path) -> tuple[str, Report, list[str]]:
    """(uid without the ``CXR`` prefix, report, parentImage ids) of one OpenI report file."""
    try:
        tree = ElementTree.parse(path)
    except (ElementTree.ParseError, OSError) as err:
        raise ReportProblem(REPORT_UNREADABLE, f"{path.name}: {err}") from None
    root = tree.getroot()
    uid_node = root.find(".//uId")
    uid = uid_node.get("id") if uid_node is not None and uid_node.get("id") else path.stem
    uid = uid[len(OPENI_PREFIX):] if uid.upper().startswith(OPENI_PREFIX) else uid
    texts = {key: [] for key in XML_LABELS}
    for node in root.iter("AbstractText"):
        label = (node.get("Label") or "").strip().upper()
        for key, wanted in XML_LABELS.items():
            if label == wanted:
                text = clean_text("".join(node.itertext()))
                if text and text not in texts[key]:
                    texts[key].append(text)
    images = [node.get("id") for node in root.iter("parentImage") if node.get("id")]
    return uid, Report(" ".join(texts["findings"]), " ".join(texts["impression"])), images


class IuXray(Converter):
    name = "iu-xray"

    def __init__(self, config):
        super().__init__(config)
        reports = find_files(self.root, REPORTS_CSV)
        self.reports_csv = reports[0] if reports else None
        self.xml_files = [] if self.reports_csv else find_files(self.root, XML_PATTERNS)
        self.layout = "csv" if self.reports_csv else "openi-xml"
        if self.reports_csv:
            projections = find_files(self.root, PROJECTIONS_CSV)
            if not projections:
                raise EchoError(f"{self.reports_csv} found but no indiana_projections.csv under {self.root}")
            self.projections_csv = projections[0]
        elif not self.xml_files:
            raise EchoError(f"no IU X-ray reports under {self.root} (indiana_reports.csv or OpenI *.xml files)")
        self._index: dict[str, Path] | None = None

    def sources(self) -> dict[str, str]:
        if self.reports_csv:
            return {"layout": self.layout, "reports": str(self.reports_csv), "projections": str(self.projections_csv)}
        return {"layout": self.layout, "reports": f"{len(self.xml_files)} XML files"}

    def split_source(self) -> str:
        fractions = ",".join(f"{name}={value:g}" for name, value in self.config.split_fractions)
        return f"none official: sha256 of the study id, fractions {fractions}"

    def count(self) -> int:
        return sum(1 for _ in read_csv(self.reports_csv)) if self.reports_csv else len(self.xml_files)

    def _split(self, study_id: str) -> str:
        return hash_split(study_id, self.config.split_fractions)

    def studies(self) -> Iterator[SourceStudy]:
        return self._csv_studies() if self.reports_csv else self._xml_studies()

    def _csv_studies(self) -> Iterator[SourceStudy]:
        columns = require_columns(self.projections_csv, {"uid": ("uid",), "file": ("filename", "file"),
                                                         "view": ("projection", "view")})
        images: dict[str, list[SourceImage]] = {}
        for row in read_csv(self.projections_csv):
            view = row[columns["view"]]
            images.setdefault(row[columns["uid"]].strip(), []).append(
                SourceImage(row[columns["file"]].strip(), classify_view(view), view))
        report_columns = require_columns(self.reports_csv, {"uid": ("uid",), "findings": ("findings",),
                                                            "impression": ("impression",)})
        for row in read_csv(self.reports_csv):
            uid = row[report_columns["uid"]].strip()
            study = sample_id(self.name, uid)
            yield SourceStudy(study, self._split(study), images.get(uid, []),
                              fixed_report(clean_text(row[report_columns["findings"]]),
                                           clean_text(row[report_columns["impression"]])), {"uid": uid})

    def _xml_studies(self) -> Iterator[SourceStudy]:
        for path in self.xml_files:
            try:
                uid, report, image_ids = read_openi_xml(path)
            except ReportProblem as problem:
                study = sample_id(self.name, path.stem)

                def fail(problem=problem):
                    raise problem

                yield SourceStudy(study, self._split(study), [], fail, {"uid": path.stem})
                continue
            study = sample_id(self.name, uid)
            yield SourceStudy(study, self._split(study), [SourceImage(i, UNKNOWN) for i in image_ids],
                              lambda report=report: report, {"uid": uid})

    def resolve_image(self, ref: str) -> Path | None:
        if self._index is None:
            self._index = image_index([self.root])
        name = ref.strip().lower()
        return self._index.get(name) or self._index.get(strip_image_suffixes(name))
