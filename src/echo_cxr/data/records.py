"""What a converter reads from a dataset, before the conversion engine checks it.

A converter yields ``SourceStudy`` objects; their report is read lazily (``read_report``) and
their images are named by the dataset's own references (``SourceImage.ref``) that the converter
resolves to files only when the engine asks, so that a resumed run skips finished studies
without touching the disk. The drop reasons below are the keys of the manifest's ``dropped``
counts (docs/data.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

# drop reasons (manifest "dropped" keys)
NO_SPLIT = "no_split"  # the study is in no official split
REPORT_MISSING = "report_missing"  # the report file the dataset names is not there
REPORT_UNREADABLE = "report_unreadable"  # the report file cannot be parsed
NO_TEXT = "no_findings_no_impression"
NO_IMAGES = "no_images_listed"
MISSING_IMAGE = "missing_image"  # every usable image of the study (or its only frontal) is missing
UNREADABLE_IMAGE = "unreadable_image"  # ... is empty or, with --validate, does not decode
NO_FRONTAL = "no_frontal_view"  # only lateral / other views (lateral-only studies)
DUPLICATE_STUDY = "duplicate_study"  # the same study id met again (first one kept)
DROP_REASONS = (NO_SPLIT, REPORT_MISSING, REPORT_UNREADABLE, NO_TEXT, NO_IMAGES, MISSING_IMAGE,
                UNREADABLE_IMAGE, NO_FRONTAL, DUPLICATE_STUDY)


@dataclass(frozen=True)
class Report:
    """The two sections ECHO trains on (whitespace-normalised; either may be empty)."""

    findings: str
    impression: str


class ReportProblem(Exception):
    """A study's report could not be read; ``reason`` is one of the drop reasons."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class SourceImage:
    """One image as the dataset lists it: its own reference and its view category."""

    ref: str  # relative path or id, resolved by the converter's ``resolve_image``
    view: str  # frontal | lateral | other | unknown (echo_cxr.data.views)
    raw_view: str = ""  # the view as the dataset spells it


@dataclass
class SourceStudy:
    """One study as read from the dataset (official split already mapped to train/val/test)."""

    study_id: str  # the sample_id written to the release JSON
    split: str | None
    images: list[SourceImage]
    read_report: Callable[[], Report]
    extra: dict = field(default_factory=dict)  # dataset-specific fields kept in the JSON entry


def fixed_report(findings: str, impression: str) -> Callable[[], Report]:
    """A ``read_report`` for reports already in memory (CSV / JSON / XML fields)."""
    report = Report(findings, impression)
    return lambda: report
