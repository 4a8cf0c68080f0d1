"""Shared pieces of the look-alike builders: images (good, empty, corrupt) and expectations."""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

IMAGE_SIDE = 64
KEPT = "kept"
CORRUPT_BYTES = b"\xff\xd8\xff\xe0 this is not really a JPEG \x00\x01"


@dataclass
class Expected:
    """What a correct conversion does with one study."""

    outcome: str  # "kept", a drop reason, or "not_selected"
    split: str | None = None
    findings: str | None = None
    impression: str | None = None
    views: list[str] | None = None
    validate_outcome: str | None = None  # outcome with --validate, when different


@dataclass
class LookAlike:
    """A built look-alike: its root and the expected outcome of every study (by sample_id)."""

    root: Path
    studies: dict[str, Expected] = field(default_factory=dict)
    options: dict = field(default_factory=dict)  # extra convert options it needs (e.g. reports)
    unnamed_drops: dict[str, int] = field(default_factory=dict)  # drops of repeated ids (duplicate_study)

    def outcomes(self, validate: bool = False) -> dict[str, str]:
        return {sid: (e.validate_outcome or e.outcome) if validate else e.outcome for sid, e in self.studies.items()}


def write_image(path: Path, seed: int, kind: str = "good", fmt: str | None = None) -> Path:
    """A small grayscale image ('good'), a zero-byte file ('empty') or garbage bytes ('corrupt')."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "corrupt":
        path.write_bytes(CORRUPT_BYTES)
    else:
        rng = np.random.default_rng(seed)
        xx = np.mgrid[0:IMAGE_SIDE, 0:IMAGE_SIDE][1]
        pixels = 90 + 60 * np.sin(xx / 9.0 + seed) + rng.normal(0, 12, (IMAGE_SIDE, IMAGE_SIDE))
        image = Image.fromarray(np.clip(pixels, 0, 255).astype("uint8"))
        image.save(path, format=fmt or ("JPEG" if path.suffix.lower() in (".jpg", ".jpeg") else "PNG"))
    return path


def write_csv(path: Path, header: list[str], rows: list[list], gz: bool = False) -> Path:
    """A CSV file, gzip-compressed when ``gz`` (as PhysioNet ships the MIMIC tables)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    data = buffer.getvalue().encode("utf-8")
    path.write_bytes(gzip.compress(data) if gz else data)
    return path
