"""Reading the normaliser's input and writing its three outputs (docs/data.md, "Reading the audit").

- ``<out>.json``: the input samples in order, image paths made relative to the output's folder,
  ``ground_truth`` replaced by the accepted rewrite (else the original), plus
  ``"normalization": {"status", "prompt", "model"}`` and, when rewritten, ``original_ground_truth``.
  Extra fields of the input (labels, views, dataset ids) are kept.
- ``<out>.audit.jsonl``: one line per sample: status (``accepted``, ``retried`` = accepted after a
  rejected rewrite, ``rejected`` = original kept after ``max_attempts`` rejected rewrites,
  ``error`` = no answer from the backend, ``skipped_empty``), whether it came from the cache, and
  per attempt the problems found and the tokens used.
- ``<out>.summary.json``: counts by status, rejection reasons, requests, transport errors, token
  and time totals.
All three are written through temporary files and renamed, at the end of the run.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

from echo_cxr.data.normalize.config import AUDIT_SUFFIX, SUMMARY_SUFFIX
from echo_cxr.data.parts import TMP_SUFFIX, write_json_atomic
from echo_cxr.errors import EchoError
from echo_cxr.evaluation.data import read_dataset

RETRIED, SKIPPED = "retried", "skipped_empty"


def read_input(path: str) -> tuple[list[dict], list]:
    """(raw entries, validated samples) of a release-schema file."""
    samples = read_dataset(path)  # schema errors are reported here, naming the sample
    entries = json.loads(Path(path).read_text(encoding="utf-8"))
    if not samples:
        raise EchoError(f"{path} holds no samples")
    return entries, samples


def _sample_status(record: dict | None) -> str:
    if record is None:
        return SKIPPED
    if record["status"] == "accepted" and len(record["attempts"]) > 1:
        return RETRIED
    return record["status"]


def _entry(entry: dict, sample, record: dict | None, out_dir: Path) -> dict:
    result = dict(entry)
    result["images"] = [Path(os.path.relpath(image, out_dir)).as_posix() for image in sample.images]
    status = _sample_status(record)
    result["normalization"] = {"status": status, "prompt": record["prompt"] if record else None,
                               "model": record["model"] if record else None}
    if record is not None and record["status"] == "accepted":
        result["original_ground_truth"] = dict(entry["ground_truth"])
        result["ground_truth"] = {"findings": record["findings"], "impression": record["impression"]}
    return result


def _audit(sample_id: str, key: str, record: dict | None, cached: bool) -> dict:
    attempts = record["attempts"] if record else []
    return {"sample_id": sample_id, "status": _sample_status(record), "cached": cached, "key": key or None,
            "attempts": len([a for a in attempts if "answer" in a]),
            "problems": [a.get("problems", []) for a in attempts if "answer" in a],
            "transport_errors": sum(len(a.get("transport_errors", [])) for a in attempts),
            "prompt_tokens": sum(a.get("prompt_tokens", 0) for a in attempts),
            "completion_tokens": sum(a.get("completion_tokens", 0) for a in attempts)}


def _write_lines(path: Path, rows) -> None:
    tmp = path.with_name(path.name + TMP_SUFFIX)
    with open(tmp, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def write_outputs(normalizer, cached: set[str]) -> dict:
    """Write the normalised file, the audit and the summary; returns the summary."""
    config = normalizer.config
    out = Path(config.out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    rows, audit, statuses, reasons = [], [], Counter(), Counter()
    for entry, sample in zip(normalizer.entries, normalizer.samples):
        key = normalizer.keys[sample.sample_id]
        record = (normalizer.cache.get(key) or normalizer.errors.get(key)) if key else None
        rows.append(_entry(entry, sample, record, out.parent))
        line = _audit(sample.sample_id, key, record, key in cached)
        audit.append(line)
        statuses[line["status"]] += 1
        for problems in line["problems"]:
            reasons.update(problem.split(":", 1)[0] for problem in problems)
    write_json_atomic(out, rows)
    _write_lines(config.beside_out(AUDIT_SUFFIX), audit)
    summary = {"data": config.data, "out": str(config.out), "audit": str(config.beside_out(AUDIT_SUFFIX)),
               "cache": str(config.cache_path), "backend": config.backend, "model": normalizer.backend.model_id,
               "prompt": normalizer.prompt.prompt_id, "samples": len(rows), "distinct_reports": len(normalizer.jobs),
               "from_cache": len(cached), "status": dict(sorted(statuses.items())),
               "rejection_reasons": dict(reasons.most_common()),
               **{k: round(v, 3) if isinstance(v, float) else v for k, v in normalizer.totals.items()}}
    write_json_atomic(config.beside_out(SUMMARY_SUFFIX), summary)
    return summary
