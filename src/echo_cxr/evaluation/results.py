"""Results files of batch inference: one JSON record per line, written batch by batch.

Each record carries ``run_id`` (model + decoding settings + data files) and a key
``(source_digest, sample_id, sample_index)``. Reading is strict: a malformed line is an error
naming it; only a *last* line cut short by a killed run is tolerated, and only when resuming
(it is truncated away, since its batch was never fsynced whole). Records of different runs in one
results set, or one sample twice, are errors: nothing is silently dropped or mixed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from echo_cxr.errors import EchoError

RECORD_VERSION = 1
Key = tuple[str, str, int]


def record_key(record: dict) -> Key:
    """Identity of one generated sample: data file digest, sample id, draw index."""
    try:
        return record["source_digest"], record["sample_id"], int(record["sample_index"])
    except (KeyError, TypeError, ValueError):
        raise EchoError(f"record without source_digest / sample_id / sample_index: {str(record)[:120]}") from None


def _parse_lines(path: Path, text: str, tolerate_partial_tail: bool) -> tuple[list[dict], int]:
    """Records and the byte length of the valid prefix (for truncating a cut-off last line)."""
    records: list[dict] = []
    offset = 0
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        is_last = number == len(lines)
        if not line.strip():
            offset += len(line.encode("utf-8")) + (0 if is_last else 1)
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
        except ValueError as err:
            if is_last and tolerate_partial_tail:  # no newline after it: a write cut short by a kill
                return records, offset
            hint = " (an interrupted run? finish it with `echo-cxr infer --resume`)" if is_last else ""
            raise EchoError(f"{path}: line {number} is not a JSON record: {err}{hint}") from None
        records.append(record)
        offset += len(line.encode("utf-8")) + (0 if is_last else 1)
    return records, offset


TAIL_ERROR, TAIL_IGNORE, TAIL_REPAIR = "error", "ignore", "repair"


def read_records(path: str | Path, tail: str = TAIL_ERROR) -> list[dict]:
    """All records of a JSONL results file.

    ``tail``: what to do with a last line cut short by a killed run: "error" (scoring), "ignore"
    (read-only look when resuming) or "repair" (truncate it away in place, before appending).
    """
    tolerant = tail != TAIL_ERROR
    path = Path(path)
    if not path.is_file():
        raise EchoError(f"results file not found: {path}")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        if not tolerant:
            raise EchoError(f"{path}: not UTF-8 text") from None
        text = data[: data.rfind(b"\n") + 1].decode("utf-8")
    records, valid = _parse_lines(path, text, tolerate_partial_tail=tolerant)
    if tail == TAIL_REPAIR and (valid < len(data) or not data.endswith(b"\n")):
        with open(path, "r+b") as handle:
            handle.truncate(valid)
            if valid and data[valid - 1 : valid] != b"\n":  # a whole record cut before its newline
                handle.seek(valid)
                handle.write(b"\n")
            os.fsync(handle.fileno())
    return records


def append_records(path: str | Path, records: Iterable[dict]) -> None:
    """Append records as one write, then flush and fsync: a batch is on disk or not at all."""
    lines = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    if not lines:
        return
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(lines)
        handle.flush()
        os.fsync(handle.fileno())


def check_one_run(records: Sequence[dict], where: str) -> str | None:
    """The single run id of ``records``; records of several runs are an error."""
    runs: dict[str, int] = {}
    for record in records:
        run = record.get("run_id")
        if not isinstance(run, str):
            raise EchoError(f"{where}: a record has no run_id (not an echo-cxr infer results file?)")
        runs[run] = runs.get(run, 0) + 1
    if len(runs) > 1:
        listed = ", ".join(f"{run} ({count} records)" for run, count in runs.items())
        raise EchoError(f"{where}: results of {len(runs)} different runs are mixed: {listed}; "
                        "score each run's results separately")
    return next(iter(runs), None)


def check_unique(records: Sequence[dict], where: str) -> None:
    """Each sample at most once."""
    seen: set[Key] = set()
    for record in records:
        key = record_key(record)
        if key in seen:
            raise EchoError(f"{where}: sample {key[1]!r} (draw {key[2]}, data {key[0]}) appears twice")
        seen.add(key)


def load_results(paths: Sequence[str | Path]) -> tuple[str, list[dict]]:
    """Records of one run, from one or more files (e.g. shards); returns (run id, records)."""
    if not paths:
        raise EchoError("no results file given (--results results.jsonl)")
    records: list[dict] = []
    for path in paths:
        records.extend(read_records(path))
    where = ", ".join(str(p) for p in paths)
    run = check_one_run(records, where)
    if run is None:
        raise EchoError(f"{where}: no records")
    check_unique(records, where)
    return run, records
