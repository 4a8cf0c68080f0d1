"""The checks every converted study goes through, and the images it keeps (docs/data.md).

Per study, in order: a split, a readable report, findings or impression, listed images; then the
images of the selected view categories are taken frontal first (``VIEW_RANK``), preferring one
frontal (or unknown-view) image and one lateral before any further image, up to
``max_images``. An image is kept when its file exists and is not empty and, with ``validate``,
decodes (``echo_cxr.imaging.load_image``, the reader every other command uses); images past the
cap are never opened. A study without a frontal (or unknown-view) image is dropped: as
``missing_image`` / ``unreadable_image`` when it listed one that could not be used, else as
``no_frontal_view``.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from echo_cxr.data.config import ConvertConfig
from echo_cxr.data.records import (
    MISSING_IMAGE, NO_FRONTAL, NO_IMAGES, NO_TEXT, UNREADABLE_IMAGE, ReportProblem, SourceImage, SourceStudy,
)
from echo_cxr.data.views import FRONTAL, LATERAL, UNKNOWN, VIEW_RANK
from echo_cxr.prompts import detect_language

PRIMARY = (FRONTAL, UNKNOWN)  # the first image of a study: a frontal, or a view that may be one


@dataclass
class Outcome:
    """A study kept (``entry``) or dropped (``reason``), with its image counts."""

    entry: dict | None = None
    reason: str | None = None
    detail: str = ""
    images: Counter = field(default_factory=Counter)


def image_problem(path: Path, validate: bool) -> str | None:
    """None for a usable image file, else the drop reason (empty files never need decoding)."""
    if path.stat().st_size == 0:
        return UNREADABLE_IMAGE
    if validate:
        from echo_cxr.imaging import load_image

        try:
            load_image(path)
        except Exception:  # noqa: BLE001 - any decoder failure means the model could not read it
            return UNREADABLE_IMAGE
    return None


class _Picker:
    """Takes images group by group, checking each file only when it is needed."""

    def __init__(self, resolve: Callable[[str], Path | None], validate: bool, counts: Counter):
        self.resolve, self.validate, self.counts = resolve, validate, counts
        self.chosen: list[tuple[SourceImage, Path]] = []
        self.lost: list[str] = []  # why primary-view images were not usable

    def take(self, group: list[SourceImage]) -> bool:
        while group:
            image = group.pop(0)
            path = self.resolve(image.ref)
            problem = MISSING_IMAGE if path is None else image_problem(path, self.validate)
            if problem is None:
                self.chosen.append((image, path))
                return True
            self.counts["missing" if problem == MISSING_IMAGE else "unreadable"] += 1
            if image.view in PRIMARY:
                self.lost.append(problem)
        return False


def choose_images(images: list[SourceImage], config: ConvertConfig, resolve, counts: Counter):
    """(chosen [(image, path)] frontal first, or the drop reason)."""
    wanted = sorted((im for im in images if im.view in config.views), key=lambda im: VIEW_RANK[im.view])
    counts["listed"] += len(images)
    counts["view_excluded"] += len(images) - len(wanted)
    groups = {"primary": [im for im in wanted if im.view in PRIMARY],
              "lateral": [im for im in wanted if im.view == LATERAL],
              "rest": [im for im in wanted if im.view not in PRIMARY and im.view != LATERAL]}
    picker = _Picker(resolve, config.validate, counts)
    if not picker.take(groups["primary"]):
        reason = (MISSING_IMAGE if MISSING_IMAGE in picker.lost else UNREADABLE_IMAGE) if picker.lost else NO_FRONTAL
        return None, reason
    limit = config.max_images or len(wanted)
    if len(picker.chosen) < limit:
        picker.take(groups["lateral"])
    for kind in ("primary", "lateral", "rest"):
        while len(picker.chosen) < limit and groups[kind]:
            picker.take(groups[kind])
    counts["over_max"] += sum(len(g) for g in groups.values())
    counts["kept"] += len(picker.chosen)
    return sorted(picker.chosen, key=lambda pair: VIEW_RANK[pair[0].view]), None


def assess(study: SourceStudy, dataset: str, config: ConvertConfig, resolve, out: Path) -> Outcome:
    """Check one study; the release-schema entry (image paths relative to ``out``) or why not."""
    outcome = Outcome()
    try:
        report = study.read_report()
    except ReportProblem as problem:
        return Outcome(reason=problem.reason, detail=problem.detail)
    if not report.findings and not report.impression:
        return Outcome(reason=NO_TEXT)
    if not study.images:
        return Outcome(reason=NO_IMAGES)
    chosen, reason = choose_images(study.images, config, resolve, outcome.images)
    if reason is not None:
        outcome.reason = reason
        return outcome
    outcome.entry = {
        "sample_id": study.study_id,
        "images": [Path(os.path.relpath(os.path.abspath(path), out)).as_posix() for _, path in chosen],
        "ground_truth": {"findings": report.findings, "impression": report.impression},
        "language": detect_language(report.findings + report.impression),
        "dataset": dataset,
        "split": study.split,
        "views": [image.view for image, _ in chosen],
        **study.extra,
    }
    return outcome
