"""Crash-safe output of a long conversion: append-only part files plus a durable checkpoint.

Records are appended to JSON-lines part files under ``<out>/.convert-work/``. Every checkpoint
flushes and fsyncs them and then atomically replaces ``state.json`` with the number of studies
processed, the byte length of every part file and the counters, all taken at the same moment.
A run killed at any point resumes from the last checkpoint: each part file is cut back to its
recorded length (dropping records written after it, including a half-written last line) and the
first ``processed`` studies are skipped. ``finish`` turns the parts into the final JSON lists,
written to temporary files and renamed into place, and removes the work folder.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from echo_cxr.errors import EchoError

WORK_DIR = ".convert-work"
STATE_FILE = "state.json"
MANIFEST = "manifest.json"
PART_SUFFIX = ".jsonl"
TMP_SUFFIX = ".tmp"


def write_json_atomic(path: Path, value) -> None:
    """Write JSON to ``path`` through a fsynced temporary file and a rename."""
    tmp = path.with_name(path.name + TMP_SUFFIX)
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(value, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class PartWriter:
    """Part files of one conversion in ``out``; ``state`` holds the last checkpoint."""

    def __init__(self, out: Path, fingerprint: dict, overwrite: bool):
        self.out, self.work = out, out / WORK_DIR
        self._clear_or_refuse(fingerprint, overwrite)
        self.work.mkdir(parents=True, exist_ok=True)
        state_path = self.work / STATE_FILE
        self.state = json.loads(state_path.read_text()) if state_path.exists() else {
            "fingerprint": fingerprint, "processed": 0, "offsets": {}, "counters": {}, "seconds": 0.0}
        self.handles: dict[str, object] = {}

    @property
    def resuming(self) -> bool:
        return self.state["processed"] > 0

    def _clear_or_refuse(self, fingerprint: dict, overwrite: bool) -> None:
        manifest, state = self.out / MANIFEST, self.work / STATE_FILE
        if overwrite:
            if manifest.exists():
                for name in json.loads(manifest.read_text()).get("files", []):
                    (self.out / name).unlink(missing_ok=True)
                manifest.unlink()
            shutil.rmtree(self.work, ignore_errors=True)
            return
        if manifest.exists() and not state.exists():
            raise EchoError(f"{self.out} already holds a finished conversion ({MANIFEST}); pass --overwrite to redo it")
        if state.exists() and json.loads(state.read_text())["fingerprint"] != fingerprint:
            raise EchoError(f"{self.out} holds an unfinished conversion with other settings; pass --overwrite to "
                            "start again, or rerun with the same settings to resume it")

    def _handle(self, part: str):
        if part not in self.handles:
            path = self.work / (part + PART_SUFFIX)
            path.touch()
            handle = open(path, "r+b")
            handle.truncate(self.state["offsets"].get(part, 0))
            handle.seek(0, os.SEEK_END)
            self.handles[part] = handle
        return self.handles[part]

    def write(self, part: str, record: dict) -> None:
        line = json.dumps(record, ensure_ascii=False) + "\n"
        self._handle(part).write(line.encode("utf-8"))

    def open_parts(self) -> None:
        """Open (and cut back) every part of the last checkpoint, so that the next checkpoint
        records them even if this run writes nothing more to them."""
        for path in self.work.glob("*" + PART_SUFFIX):
            if path.stem not in self.state["offsets"]:
                path.unlink()  # created after the last checkpoint
        for part in self.state["offsets"]:
            self._handle(part)

    def checkpoint(self, processed: int, counters: dict, seconds: float) -> None:
        offsets = {}
        for part, handle in self.handles.items():
            handle.flush()
            os.fsync(handle.fileno())
            offsets[part] = handle.tell()
        self.state.update(processed=processed, offsets=offsets, counters=dict(counters), seconds=seconds)
        write_json_atomic(self.work / STATE_FILE, self.state)

    def lines(self, part: str):
        path = self.work / (part + PART_SUFFIX)
        if not path.exists():
            return
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                yield line.rstrip("\n")

    def finish(self, outputs: dict[str, str], manifest: dict) -> None:
        """Write each part as its final file (``outputs``: part -> file name; ``.json`` parts as a
        JSON list, others as JSON lines), then the manifest, then drop the work folder."""
        for handle in self.handles.values():
            handle.close()
        self.handles = {}
        for part, name in outputs.items():
            target = self.out / name
            tmp = target.with_name(target.name + TMP_SUFFIX)
            as_list = name.endswith(".json")
            with open(tmp, "w", encoding="utf-8") as handle:
                handle.write("[\n" if as_list else "")
                for index, line in enumerate(self.lines(part)):
                    handle.write(("," if as_list and index else "") + line + "\n")
                handle.write("]\n" if as_list else "")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        write_json_atomic(self.out / MANIFEST, manifest)
        shutil.rmtree(self.work, ignore_errors=True)
