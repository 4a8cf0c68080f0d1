"""ReXGradient-160K (Rajpurkar lab).

Layout::

    metadata/train_metadata_view_position.json   one entry per study, keyed by study: ImagePath
    metadata/valid_metadata_view_position.json   (["../deid_png/PATIENT/ACCESSION/studies/.../X.png",
    metadata/test_metadata_view_position.json     ...]), ImageViewPosition (parallel list), Findings,
                                                  Impression, Indication, Comparison, PatientID ...
    metadata/train_metadata.csv ...               one row per study (id, Findings, Impression, ...)
    deid_png/PATIENT/ACCESSION/studies/.../instances/X.png

Any ``<split>_metadata*.json`` (else any ``<split>*.json``; an object keyed by study, or a list of
entries with an ``id``) is read, one entry at a time; when a JSON has no Findings / Impression fields they are taken from the
same split's ``<split>_metadata.csv``. Image paths are relative to the JSON's folder; paths that do
not resolve there are looked up from their ``deid_png/`` part under the root.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from echo_cxr.data.converters.base import Converter, official_split, sample_id
from echo_cxr.data.locate import PathResolver, find_files
from echo_cxr.data.records import SourceImage, SourceStudy, fixed_report
from echo_cxr.data.sections import clean_text
from echo_cxr.data.tables import iter_json_entries, read_csv
from echo_cxr.data.views import UNKNOWN, classify_view
from echo_cxr.errors import EchoError

JSON_PATTERNS = ("*_metadata*.json",)
FALLBACK_PATTERNS = ("train*.json", "valid*.json", "val*.json", "test*.json", "dev*.json")
IMAGE_TREE = "deid_png"
SPLIT_ORDER = ("train", "val", "test")
ID_FIELDS = ("id", "StudyKey", "study_id", "StudyInstanceUid")
TEXT_FIELDS = {"findings": ("Findings", "findings"), "impression": ("Impression", "impressions", "impression")}


def _prefix(name: str) -> str:
    """``train_metadata_view_position.json`` / ``train.json`` -> ``train``."""
    return re.split(r"[_.-]", name, maxsplit=1)[0]


def _field(entry: dict, names) -> object:
    return next((entry[name] for name in names if name in entry), None)


def _spellings(ref: str) -> list[str]:
    ref = ref.replace("\\", "/")
    parts = PurePosixPath(ref).parts
    tails = [ref]
    if IMAGE_TREE in parts:
        tail = PurePosixPath(*parts[parts.index(IMAGE_TREE):])
        tails += [str(tail), str(PurePosixPath(*tail.parts[1:]))]
    return tails


class ReXGradient(Converter):
    name = "rexgradient"

    def __init__(self, config):
        super().__init__(config)
        self.files = self._split_files()
        if not self.files:
            raise EchoError(f"no ReXGradient metadata JSON (<split>_metadata*.json) under {self.root}")
        folders = list(dict.fromkeys(path.parent for path in self.files.values()))
        self.images = PathResolver([*folders, self.root, *(f.parent for f in folders)], _spellings)

    def _split_files(self) -> dict[str, Path]:
        chosen: dict[str, Path] = {}
        for path in find_files(self.root, JSON_PATTERNS) or find_files(self.root, FALLBACK_PATTERNS):
            split = official_split(_prefix(path.name))
            preferred = "view_position" in path.name
            if split and (split not in chosen or (preferred and "view_position" not in chosen[split].name)):
                chosen[split] = path
        order = {name: index for index, name in enumerate(SPLIT_ORDER)}
        return dict(sorted(chosen.items(), key=lambda item: (order.get(item[0], len(order)), item[0])))

    def sources(self) -> dict[str, str]:
        return {split: str(path) for split, path in self.files.items()}

    def split_source(self) -> str:
        return "official (metadata file per split)"

    def _csv_texts(self, json_path: Path, split_prefix: str) -> dict[str, tuple[str, str]]:
        table = json_path.with_name(f"{split_prefix}_metadata.csv")
        if not table.exists():
            return {}
        return {row.get("id", ""): (row.get("findings", ""), row.get("impression", "")) for row in read_csv(table)}

    def studies(self) -> Iterator[SourceStudy]:
        for split, path in self.files.items():
            if self.config.splits is not None and split not in self.config.splits:
                continue  # a whole file of an unselected split is not read
            texts: dict[str, tuple[str, str]] | None = None
            for key, entry in iter_json_entries(path):
                if not isinstance(entry, dict):
                    continue
                study = str(key if key is not None else _field(entry, ID_FIELDS))
                findings, impression = _field(entry, TEXT_FIELDS["findings"]), _field(entry, TEXT_FIELDS["impression"])
                if findings is None and impression is None:
                    texts = self._csv_texts(path, _prefix(path.name)) if texts is None else texts
                    findings, impression = texts.get(study, ("", ""))
                yield SourceStudy(sample_id(self.name, study), split, self._images(entry),
                                  fixed_report(clean_text(findings), clean_text(impression)),
                                  {"study_key": study, "patient_id": str(entry.get("PatientID", ""))})

    def _images(self, entry: dict) -> list[SourceImage]:
        paths = entry.get("ImagePath") or []
        paths = [paths] if isinstance(paths, str) else paths
        views = entry.get("ImageViewPosition") or []
        views = [views] if isinstance(views, str) else list(views)
        views += [None] * (len(paths) - len(views))
        images = []
        for ref, view in zip(paths, views):
            category = classify_view(view) if view is not None else UNKNOWN
            images.append(SourceImage(str(ref), category, str(view or "")))
        return images

    def resolve_image(self, ref: str) -> Path | None:
        return self.images(ref)
