"""Test-set files in the release schema (METHOD.md section 1), read and validated.

A file is a JSON list of ``{"sample_id", "images", "ground_truth": {"findings", "impression"}}``;
image paths are relative to the file's folder. Optional per-sample fields: ``"language"`` ("en" |
"zh", else the release's CJK rule decides) and ``"labels"`` (structured truth, e.g. Phantom CXR).
Bad files are a clear ``EchoError`` naming the file and the sample; missing image files are not a
schema error (batch inference records them as a failure of that sample).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from echo_cxr.errors import EchoError
from echo_cxr.prompts import LANGUAGES, detect_language, format_reference

DIGEST_CHARS = 16  # hex characters of a file's sha256 kept as its identity
READ_CHUNK = 1 << 20


@dataclass(frozen=True)
class Sample:
    """One study of a test set, with its reference report."""

    sample_id: str
    images: tuple[str, ...]  # absolute paths
    findings: str
    impression: str
    language: str
    source: str  # the data file as given
    source_digest: str  # sha256 prefix of the data file's bytes: identity across path spellings
    labels: list | None = None

    @property
    def reference(self) -> str:
        """The release's reference string for this sample (METHOD.md section 6)."""
        return format_reference(self.findings, self.impression, self.language)

    def missing_images(self) -> list[str]:
        return [path for path in self.images if not Path(path).is_file()]


def file_digest(path: Path) -> str:
    """sha256 prefix of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(READ_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()[:DIGEST_CHARS]


def _field_error(path: Path, index: int, entry, message: str) -> EchoError:
    sample = entry.get("sample_id") if isinstance(entry, dict) else None
    where = f"sample {index}" + (f" ({sample!r})" if sample is not None else "")
    return EchoError(f"{path}: {where}: {message}")


def _language(path: Path, index: int, entry: dict, findings: str, impression: str) -> str:
    language = entry.get("language")
    if language is None:
        return detect_language(findings + impression)
    if language not in LANGUAGES:
        raise _field_error(path, index, entry, f"unknown language {language!r}; use one of {', '.join(LANGUAGES)}")
    return language


def _sample(path: Path, index: int, entry, digest: str) -> Sample:
    if not isinstance(entry, dict):
        raise _field_error(path, index, entry, f"expected an object, got {type(entry).__name__}")
    sample_id = entry.get("sample_id")
    if not isinstance(sample_id, (str, int)) or isinstance(sample_id, bool) or str(sample_id) == "":
        raise _field_error(path, index, entry, "missing or invalid 'sample_id' (a non-empty string)")
    images = entry.get("images")
    if not isinstance(images, list) or not images or not all(isinstance(i, str) and i for i in images):
        raise _field_error(path, index, entry, "'images' must be a non-empty list of paths")
    truth = entry.get("ground_truth")
    if not isinstance(truth, dict):
        raise _field_error(path, index, entry, "missing 'ground_truth' object with 'findings' and 'impression'")
    findings, impression = truth.get("findings"), truth.get("impression")
    if not isinstance(findings, str) or not isinstance(impression, str):
        raise _field_error(path, index, entry, "'ground_truth' needs string 'findings' and 'impression'")
    labels = entry.get("labels")
    if labels is not None and not isinstance(labels, list):
        raise _field_error(path, index, entry, "'labels' must be a list")
    folder = path.resolve().parent
    return Sample(
        sample_id=str(sample_id),
        images=tuple(str((folder / image).resolve()) for image in images),
        findings=findings,
        impression=impression,
        language=_language(path, index, entry, findings, impression),
        source=str(path),
        source_digest=digest,
        labels=labels,
    )


def read_dataset(path: str | Path) -> list[Sample]:
    """Samples of one release-schema file; duplicate sample ids are an error."""
    path = Path(path)
    if not path.is_file():
        raise EchoError(f"data file not found: {path}")
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise EchoError(f"{path}: malformed JSON at line {err.lineno} column {err.colno}: {err.msg}") from None
    except UnicodeDecodeError as err:
        raise EchoError(f"{path}: not UTF-8 text: {err}") from None
    if not isinstance(entries, list):
        raise EchoError(f"{path}: expected a JSON list of samples, got {type(entries).__name__}")
    digest = file_digest(path)
    samples = [_sample(path, index, entry, digest) for index, entry in enumerate(entries)]
    seen: set[str] = set()
    for sample in samples:
        if sample.sample_id in seen:
            raise EchoError(f"{path}: duplicate sample_id {sample.sample_id!r}")
        seen.add(sample.sample_id)
    return samples


def read_datasets(paths: Sequence[str | Path]) -> list[Sample]:
    """Samples of several files, in order; the same file given twice is an error."""
    if not paths:
        raise EchoError("no data file given (--data A.json [B.json ...])")
    samples: list[Sample] = []
    digests: dict[str, str] = {}
    for path in paths:
        found = read_dataset(path)
        digest = file_digest(Path(path))
        if digest in digests:
            raise EchoError(f"{path} has the same content as {digests[digest]}; give each data file once")
        digests[digest] = str(path)
        samples.extend(found)
    return samples
