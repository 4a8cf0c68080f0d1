"""Streaming readers for the tables datasets ship: CSV (plain or gzip), and large JSON files.

Nothing here holds a whole dataset in memory: CSV rows are read one at a time, rows are grouped
per study with a counting pass first (so a study whose rows are scattered through the file is
still emitted once, complete, as soon as its last row is read), and a JSON object or list of
per-study entries is decoded entry by entry.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from echo_cxr.errors import EchoError

GZIP_MAGIC = b"\x1f\x8b"
CSV_FIELD_LIMIT = min(sys.maxsize, 1 << 30)  # report columns can exceed csv's 128 kB default
JSON_CHUNK_CHARS = 1 << 20


def open_text(path: Path) -> io.TextIOBase:
    """A text file, gunzipped when it starts with the gzip magic (``.csv.gz`` or not); UTF-8 with
    an optional BOM; undecodable bytes become U+FFFD rather than stopping a 200k-study run."""
    with open(path, "rb") as probe:
        gzipped = probe.read(len(GZIP_MAGIC)) == GZIP_MAGIC
    raw = gzip.open(path, "rb") if gzipped else open(path, "rb")
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")


def read_csv(path: Path) -> Iterator[dict[str, str]]:
    """Rows of a CSV file as dicts keyed by lower-cased, stripped column names."""
    csv.field_size_limit(CSV_FIELD_LIMIT)
    with open_text(path) as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            return
        names = [name.strip().lower() for name in header]
        for row in reader:
            if any(cell.strip() for cell in row):
                yield dict(zip(names, row))


def csv_columns(path: Path) -> list[str]:
    """Lower-cased column names of a CSV file."""
    with open_text(path) as handle:
        header = next(csv.reader(handle), None) or []
    return [name.strip().lower() for name in header]


def require_columns(path: Path, needed: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Map each role to the first of its accepted column names present; a clear error if none is."""
    present = set(csv_columns(path))
    chosen = {}
    for role, names in needed.items():
        found = next((name for name in names if name in present), None)
        if found is None:
            raise EchoError(f"{path}: no {' / '.join(names)} column (columns: {', '.join(sorted(present)) or 'none'})")
        chosen[role] = found
    return chosen


def grouped_rows(path: Path, key: Callable[[dict], str | None]) -> tuple[int, Iterator[tuple[str, list[dict]]]]:
    """(number of groups, iterator of (key, rows)) over a CSV's rows grouped by ``key``.

    A first pass counts the rows of every key; the second pass yields a group the moment its last
    row is read. Rows whose key is None are skipped. Order: by each group's last row (stable for a
    given file, which is what resuming relies on).
    """
    counts = Counter(k for k in map(key, read_csv(path)) if k is not None)

    def groups() -> Iterator[tuple[str, list[dict]]]:
        pending: dict[str, list[dict]] = {}
        for row in read_csv(path):
            k = key(row)
            if k is None:
                continue
            rows = pending.setdefault(k, [])
            rows.append(row)
            if len(rows) == counts[k]:
                yield k, pending.pop(k)

    return len(counts), groups()


class _Buffer:
    """A sliding window over a text file for incremental JSON decoding."""

    def __init__(self, handle):
        self.handle, self.text, self.pos, self.eof = handle, "", 0, False

    def fill(self) -> bool:
        if self.eof:
            return False
        more = self.handle.read(JSON_CHUNK_CHARS)
        self.eof = not more
        self.text, self.pos = self.text[self.pos:] + more, 0
        return bool(more)

    def peek(self) -> str:
        """The next non-whitespace character ('' at the end of the file)."""
        while True:
            while self.pos < len(self.text) and self.text[self.pos].isspace():
                self.pos += 1
            if self.pos < len(self.text) or not self.fill():
                return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, chars: str, path: Path) -> str:
        char = self.peek()
        if char == "" or char not in chars:
            raise EchoError(f"{path}: malformed JSON: expected one of {chars!r} near character {self.pos}")
        self.pos += 1
        return char

    def value(self, decoder: json.JSONDecoder, path: Path):
        self.peek()
        while True:
            try:
                value, end = decoder.raw_decode(self.text, self.pos)
                if end < len(self.text) or self.eof:  # a number cut at the window's edge is not done
                    self.pos = end
                    return value
            except json.JSONDecodeError as err:
                if self.eof:
                    raise EchoError(f"{path}: malformed JSON: {err.msg}") from None
            self.fill()


def iter_json_entries(path: Path) -> Iterator[tuple[str | None, object]]:
    """(key, value) of each member of a top-level JSON object, or (None, item) of each item of a
    top-level list, decoded one at a time (memory bounded by the largest entry)."""
    decoder = json.JSONDecoder()
    with open_text(path) as handle:
        buffer = _Buffer(handle)
        opening = buffer.expect("{[", path)
        closing = "}" if opening == "{" else "]"
        if buffer.peek() == closing:
            return
        while True:
            key = None
            if opening == "{":
                key = buffer.value(decoder, path)
                buffer.expect(":", path)
            yield key, buffer.value(decoder, path)
            if buffer.expect("," + closing, path) == closing:
                return
