"""One report to normalise (a ``Job``) and the review of each answer the model gives for it."""

from __future__ import annotations

from dataclasses import dataclass, field

from echo_cxr.data.normalize import checks
from echo_cxr.data.normalize.regions import RewriteError, parse_rewrite

PHANTOM_PREFIX = "phantom-"
OTHER_LANGUAGE = {"en": "zh", "zh": "en"}


@dataclass
class Job:
    """A distinct report text (samples with the same text share one job and one cache record)."""

    key: str
    findings: str
    impression: str
    language: str
    phantom: bool
    sample_ids: list[str] = field(default_factory=list)
    labels_before: dict | None = None

    @property
    def text(self) -> str:
        return checks.report_text(self.findings, self.impression)


@dataclass(frozen=True)
class Review:
    problems: list[str]
    findings: str = ""
    impression: str = ""


def is_phantom(entry: dict) -> bool:
    return "labels" in entry or str(entry.get("sample_id", "")).startswith(PHANTOM_PREFIX)


def review(job: Job, answer: str, keep_negatives: bool, region_labels: bool) -> Review:
    """Parse and check one answer; no problems means it may replace the original."""
    try:
        parsed = parse_rewrite(answer, job.language)
    except RewriteError as err:
        other = OTHER_LANGUAGE[job.language]
        try:  # a well-formed report in the other language is a language error, not a format error
            parse_rewrite(answer, other)
        except RewriteError:
            return Review([str(err)])
        return Review([f"wrong_language: {other} instead of {job.language}"])
    if job.labels_before is None:  # labelled on first use: no labeling pass before the first request
        (job.labels_before,) = checks.chexpert_labels([job.text], job.language)
    findings, impression = parsed.findings(job.language, with_labels=region_labels), parsed.impression
    plain = parsed.findings(job.language)  # labels ("Tubes, lines and other:") are not findings
    after = checks.report_text(plain, impression)
    problems = checks.language_problem(after, job.language)
    (labels_after,) = checks.chexpert_labels([after], job.language)
    problems += checks.compare_chexpert(job.labels_before, labels_after, keep_negatives)
    problems += checks.compare_terms(job.text, after, job.language)
    problems += checks.compare_measurements(job.text, after)
    if job.phantom:
        problems += checks.compare_phantom(job.text, after, job.language)
    return Review(problems, findings, impression)
