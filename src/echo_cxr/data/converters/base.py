"""What every converter provides, and the helpers they share (split names, hash splits, ids)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

from echo_cxr.data.config import ConvertConfig
from echo_cxr.data.locate import check_root
from echo_cxr.data.records import SourceStudy

SPLIT_NAMES = {"train": "train", "training": "train", "validate": "val", "validation": "val", "valid": "val",
               "val": "val", "dev": "val", "test": "test", "testing": "test"}
HASH_SPACE = 2**64
HASH_BYTES = 8
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class Converter:
    """Base class: ``studies()`` in a fixed order, ``resolve_image(ref)`` to a file or None."""

    name = ""

    def __init__(self, config: ConvertConfig):
        self.config = config
        self.root = check_root(Path(config.root))

    def sources(self) -> dict[str, str]:
        """The files this conversion reads (written to the manifest)."""
        return {}

    def split_source(self) -> str:
        """Where the split comes from (written to the manifest)."""
        return "official"

    def count(self) -> int | None:
        """Number of studies ``studies()`` will yield, when cheap to know (progress bar)."""
        return None

    def studies(self) -> Iterator[SourceStudy]:
        raise NotImplementedError

    def resolve_image(self, ref: str) -> Path | None:
        raise NotImplementedError


def official_split(value) -> str | None:
    """A dataset's split name -> train / val / test (other names lower-cased); None when empty."""
    name = str(value or "").strip().lower()
    if not name or name in ("nan", "none"):
        return None
    return SPLIT_NAMES.get(name, name)


def hash_split(study_id: str, fractions: tuple[tuple[str, float], ...]) -> str:
    """A fixed split for datasets without an official one: sha256 of the id, cut by fractions."""
    digest = hashlib.sha256(study_id.encode("utf-8")).digest()[:HASH_BYTES]
    point = int.from_bytes(digest, "big") / HASH_SPACE
    edge = 0.0
    for name, fraction in fractions:
        edge += fraction
        if point < edge:
            return name
    return fractions[-1][0]


def sample_id(dataset: str, *parts: str) -> str:
    """``mimic-cxr-p10000032-s50414267``: dataset name + the study's own ids, file-name safe."""
    cleaned = [_ID_UNSAFE.sub("-", str(p)).strip("-") for p in parts]
    return "-".join([dataset, *[c for c in cleaned if c]])


def plain_id(value) -> str:
    """An id as written in a CSV: ``10000032``, ``10000032.0`` (pandas floats) or ``p10000032``."""
    text = str(value).strip()
    if text.endswith(".0"):
        text = text[:-2]
    return text.lstrip("psPS") if re.fullmatch(r"[psPS]?\d+", text) else text


def read_text_file(path: Path) -> str:
    """A report file as text: UTF-8 (BOM allowed), else Windows-1252 / Latin-1."""
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")
