"""The normaliser's crash-safe cache: one JSON line per finished report, appended and fsynced.

A key is the sha256 of (prompt id, model id, language, findings, impression), so the same report
text is rewritten once per prompt version and model whatever sample it belongs to, and a rerun
asks the model only for reports not yet in the cache. A line cut by a crash (no final newline, or
not JSON) is dropped when the cache is opened, and the file is cut back to its last complete line
before anything is appended. A key met twice keeps its first record.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path


def cache_key(prompt_id: str, model_id: str, language: str, findings: str, impression: str) -> str:
    payload = json.dumps([prompt_id, model_id, language, findings, impression], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class RewriteCache:
    def __init__(self, path: Path):
        self.path = path
        self.records: dict[str, dict] = {}
        self.duplicates = 0
        self.dropped_tail = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        good = self._load()
        self.handle = open(path, "ab")
        self.handle.truncate(good)

    def _load(self) -> int:
        """Read complete lines; returns the byte length of the good prefix."""
        if not self.path.exists():
            return 0
        data, good = self.path.read_bytes(), 0
        for line in data.splitlines(keepends=True):
            if not line.endswith(b"\n"):
                break
            try:
                record = json.loads(line)
            except ValueError:
                break
            if record["key"] in self.records:
                self.duplicates += 1
            else:
                self.records[record["key"]] = record
            good += len(line)
        self.dropped_tail = len(data) - good
        return good

    def __contains__(self, key: str) -> bool:
        return key in self.records

    def get(self, key: str) -> dict | None:
        return self.records.get(key)

    def add(self, record: dict) -> None:
        """Append one finished record durably (written, flushed and fsynced before returning)."""
        if record["key"] in self.records:
            return
        self.handle.write((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.records[record["key"]] = record

    def close(self) -> None:
        self.handle.close()
