"""Many studies from one argument: a release-schema JSON file or a folder of images.

JSON: the release test-set schema (METHOD.md section 1) read by ``evaluation.data.read_dataset``;
each sample is a study, its language that of its reference (release rule) unless one is given.
Folder: every image file directly inside is a one-view study named after the file (without its
suffix); every sub-folder holding images is one multi-view study named after the sub-folder
(views in name order). Image files are told by suffix (.png, .jpg, .jpeg, .dcm, .dicom) or, for
suffix-less files, by the DICOM magic; other files are listed as skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from echo_cxr.errors import EchoError
from echo_cxr.imaging import DEFAULT_LIMITS, ImageLimits, is_dicom, load_image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".dcm", ".dicom")


@dataclass(frozen=True)
class StudyInput:
    """One study to report on: an id, its views (paths) and its report language."""

    sample_id: str
    images: tuple[str, ...]
    language: str


@dataclass
class BatchInput:
    """The studies of a ``--batch`` argument, and what a folder held that is not an image."""

    studies: list[StudyInput]
    skipped: list[str] = field(default_factory=list)


def _is_image_file(path: Path) -> bool:
    if path.name.startswith(".") or not path.is_file():
        return False
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return True
    return path.suffix == "" and is_dicom(path)


def _from_folder(folder: Path, language: str) -> BatchInput:
    studies, skipped = [], []
    for entry in sorted(folder.iterdir()):
        if entry.is_dir():
            views = sorted(p for p in entry.iterdir() if _is_image_file(p))
            skipped += [str(p) for p in sorted(entry.iterdir()) if p not in views and not p.name.startswith(".")]
            if views:
                studies.append(StudyInput(entry.name, tuple(str(v) for v in views), language))
        elif _is_image_file(entry):
            studies.append(StudyInput(entry.stem, (str(entry),), language))
        elif not entry.name.startswith("."):
            skipped.append(str(entry))
    if not studies:
        raise EchoError(f"no images found in folder {folder} (looked for {', '.join(IMAGE_SUFFIXES)} and DICOM files)")
    names = [s.sample_id for s in studies]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        raise EchoError(f"folder {folder}: two studies are named {duplicate!r} (e.g. a.png and a.dcm); rename one")
    return BatchInput(studies, skipped)


def _from_json(path: Path, language: str | None) -> BatchInput:
    from echo_cxr.evaluation.data import read_dataset

    samples = read_dataset(path)
    if not samples:
        raise EchoError(f"{path} holds no samples")
    return BatchInput([StudyInput(s.sample_id, s.images, language or s.language) for s in samples])


def read_batch(source: str | Path, language: str | None = None) -> BatchInput:
    """Studies of a JSON file or a folder (see module docstring); ``language`` overrides samples'."""
    path = Path(source)
    if path.is_dir():
        return _from_folder(path, language or "en")
    if not path.exists():
        raise EchoError(f"batch input not found: {path}")
    if path.suffix.lower() != ".json":
        raise EchoError(f"batch input {path} is neither a folder nor a .json file in the release schema")
    return _from_json(path, language)


def check_studies(studies: Sequence[StudyInput], limits: ImageLimits = DEFAULT_LIMITS,
                  on_image: Callable[[str], None] | None = None) -> None:
    """Decode every view of every study once, so that a bad file fails before any output is written."""
    from echo_cxr.prompts import default_prompt

    for study in studies:
        default_prompt(study.language)
        try:
            limits.check_count(len(study.images))
        except EchoError as err:
            raise EchoError(f"study {study.sample_id!r}: {err}") from None
        for image in study.images:
            load_image(image, limits)
            if on_image is not None:
                on_image(image)
