"""``convert``: one dataset folder -> release-schema JSON files + a manifest (docs/data.md).

Output in ``config.out``::

    train.json, val.json, test.json   JSON lists of {"sample_id", "images" (relative to the file),
                                      "ground_truth": {"findings", "impression"}, "language",
                                      "dataset", "split", "views", <dataset ids>}
    dropped.jsonl                     one {"sample_id", "split", "reason", "detail"} per dropped study
    manifest.json                     settings, source files, and the counts: every study read is
                                      kept, dropped (by reason) or not selected (--splits)

Studies stream from the converter one at a time; the run is resumable (``echo_cxr.data.parts``):
rerunning the same command after a crash continues from the last checkpoint.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from echo_cxr.data.config import ConvertConfig
from echo_cxr.data.converters import get_converter
from echo_cxr.data.parts import MANIFEST, PartWriter
from echo_cxr.data.progress import progress_bar
from echo_cxr.data.records import DROP_REASONS, DUPLICATE_STUDY, NO_SPLIT
from echo_cxr.data.selection import assess
from echo_cxr.errors import EchoError

DROPPED_FILE = "dropped.jsonl"
DROPPED_PART = "dropped"
KEPT_PART = "kept-"  # + split name


def _split_of(study, config: ConvertConfig, seen: set[str]) -> tuple[str | None, str | None]:
    """(split, None) for a study to check; (None, drop reason) or (None, None) when not selected."""
    duplicate = study.study_id in seen
    seen.add(study.study_id)
    if study.split is None:
        return None, NO_SPLIT
    if config.splits is not None and study.split not in config.splits:
        return None, None
    return (None, DUPLICATE_STUDY) if duplicate else (study.split, None)


def _record(study, config, converter, writer: PartWriter, counters: Counter, seen: set[str], out: Path) -> None:
    split, reason = _split_of(study, config, seen)
    detail = ""
    if split is not None:
        counters[f"selected.{split}"] += 1
        outcome = assess(study, converter.name, config, converter.resolve_image, out)
        counters.update({f"images.{key}": value for key, value in outcome.images.items()})
        if outcome.entry is not None:
            writer.write(KEPT_PART + split, outcome.entry)
            counters[f"kept.{split}"] += 1
            counters["views." + "+".join(outcome.entry["views"])] += 1
            counters["reports." + _sections(outcome.entry["ground_truth"])] += 1
            return
        reason, detail = outcome.reason, outcome.detail
    if reason is None:
        counters[f"not_selected.{study.split}"] += 1
        return
    writer.write(DROPPED_PART, {"sample_id": study.study_id, "split": study.split, "reason": reason,
                                "detail": detail})
    counters[f"dropped.{reason}"] += 1


def _sections(truth: dict) -> str:
    return "both" if truth["findings"] and truth["impression"] else (
        "findings_only" if truth["findings"] else "impression_only")


def _nested(counters: Counter, prefix: str) -> dict[str, int]:
    return {key[len(prefix):]: value for key, value in sorted(counters.items()) if key.startswith(prefix)}


def _manifest(config: ConvertConfig, converter, counters: Counter, processed: int, seconds: float) -> dict:
    kept = {split: counters.get(f"kept.{split}", 0) for split in _nested(counters, "selected.")}
    dropped = {reason: counters.get(f"dropped.{reason}", 0) for reason in DROP_REASONS}
    not_selected = _nested(counters, "not_selected.")
    return {
        "dataset": config.dataset, "root": str(converter.root), "sources": converter.sources(),
        "split_source": converter.split_source(), "settings": config.fingerprint(),
        "splits": {split: {"json": f"{split}.json", "studies": count} for split, count in kept.items()},
        "files": [*(f"{split}.json" for split in kept), DROPPED_FILE],
        "counts": {"studies_read": processed, "kept": sum(kept.values()), "dropped": sum(dropped.values()),
                   "not_selected": sum(not_selected.values())},
        "dropped": dropped, "not_selected": not_selected, "images": _nested(counters, "images."),
        "views": _nested(counters, "views."), "reports": _nested(counters, "reports."),
        "seconds": round(seconds, 3),
    }


def convert(config: ConvertConfig) -> dict:
    """Convert one dataset; returns the manifest (also written to ``<out>/manifest.json``)."""
    converter = get_converter(config.dataset)(config)
    out = Path(config.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    writer = PartWriter(out, config.fingerprint(), config.overwrite)
    writer.open_parts()
    if not writer.resuming:
        writer.checkpoint(0, {}, 0.0)  # from now on the folder holds an unfinished conversion of these settings
    done, counters = writer.state["processed"], Counter(writer.state["counters"])
    seconds, start, processed = writer.state["seconds"], time.monotonic(), 0
    seen: set[str] = set()
    with progress_bar(config.progress, f"convert {config.dataset}", converter.count(), done) as bar:
        for index, study in enumerate(converter.studies()):
            processed = index + 1
            if index < done:  # finished before a crash: only its id matters (duplicates)
                seen.add(study.study_id)
                continue
            _record(study, config, converter, writer, counters, seen, out)
            if processed % config.checkpoint_every == 0:
                writer.checkpoint(processed, counters, seconds + time.monotonic() - start)
            bar.advance(status=f"kept {sum(_nested(counters, 'kept.').values())}")
    if processed < done:
        raise EchoError(f"the dataset now has {processed} studies, fewer than the {done} already converted; "
                        "pass --overwrite to start again")
    seconds += time.monotonic() - start
    writer.checkpoint(processed, counters, seconds)
    manifest = _manifest(config, converter, counters, processed, seconds)
    outputs = {KEPT_PART + split: info["json"] for split, info in manifest["splits"].items()}
    writer.finish({**outputs, DROPPED_PART: DROPPED_FILE}, manifest)
    return manifest


def manifest_path(out: str | Path) -> Path:
    return Path(out) / MANIFEST
