"""``echo-cxr generate --batch``: many studies through the batched decoder, one JSON line each.

Studies are decoded ``batch_size`` at a time by the one decoder (``pipeline.generate_reports``);
each line is ``{"sample_id": ..., **the --json record}``. A results file is written beside its
final name and renamed into place only when every study is done, so a failed or interrupted run
leaves no half-written file.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from echo_cxr.apps.studies import StudyInput
from echo_cxr.errors import EchoError

DEFAULT_BATCH_SIZE = 8


def report_lines(bundle, studies: Sequence[StudyInput], config, decoder: str = "blockwise",
                 batch_size: int = DEFAULT_BATCH_SIZE, prompt: str | None = None) -> Iterator[dict]:
    """One record per study, in order, decoding ``batch_size`` studies per ``generate`` call."""
    from echo_cxr.decoding import Study
    from echo_cxr.pipeline import generate_reports

    if batch_size < 1:
        raise EchoError(f"batch size must be at least 1, got {batch_size}")
    for start in range(0, len(studies), batch_size):
        chunk = studies[start : start + batch_size]
        requests = [Study(list(s.images), language=s.language, prompt=prompt) for s in chunk]
        for study, record in zip(chunk, generate_reports(bundle, requests, config, decoder=decoder)):
            yield {"sample_id": study.sample_id, **record}


@contextmanager
def jsonl_output(out: str | Path | None):
    """A ``write(record)`` function: JSON lines to stdout, or to ``out`` atomically (temp + rename)."""
    if out is None:
        def write_stdout(record: dict) -> None:
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
            sys.stdout.flush()

        yield write_stdout
        return
    target = Path(out)
    if target.exists():
        raise EchoError(f"{target} already exists; choose another --out")
    if not target.parent.is_dir():
        raise EchoError(f"folder {target.parent} of --out does not exist")
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    handle = open(partial, "w", encoding="utf-8")
    try:
        yield lambda record: handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        os.replace(partial, target)
    finally:
        if not handle.closed:
            handle.close()
        partial.unlink(missing_ok=True)
