"""Typed settings of ``echo-cxr data convert`` (STYLE rule 5: validated on construction)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from echo_cxr.data.views import CATEGORIES, DEFAULT_VIEWS
from echo_cxr.errors import EchoError

DEFAULT_MAX_IMAGES = 2  # one frontal + one lateral when a study has both (the ECHO input)
CHECKPOINT_EVERY = 500  # studies between two durable checkpoints of a conversion
# datasets without an official split (IU X-ray) are split by a hash of the study id in the
# proportions R2Gen used for IU X-ray (7:1:2)
DEFAULT_SPLIT_FRACTIONS = (("train", 0.7), ("val", 0.1), ("test", 0.2))
FRACTION_TOLERANCE = 1e-6


@dataclass(frozen=True)
class ConvertConfig:
    """One conversion: which dataset, where it is, where the release-schema files go."""

    dataset: str
    root: str
    out: str
    splits: tuple[str, ...] | None = None  # normalised names (train, val, test); None = all
    views: tuple[str, ...] = DEFAULT_VIEWS
    max_images: int | None = DEFAULT_MAX_IMAGES  # None = every selected image
    validate: bool = False  # decode every kept image (slow); otherwise only stat them
    reports: str | None = None  # MIMIC-CXR free-text reports folder, when not under root
    split_fractions: tuple[tuple[str, float], ...] = DEFAULT_SPLIT_FRACTIONS
    overwrite: bool = False
    checkpoint_every: int = CHECKPOINT_EVERY
    progress: bool = True

    def __post_init__(self) -> None:
        from echo_cxr.data.converters import CONVERTERS

        if self.dataset not in CONVERTERS:
            raise EchoError(f"unknown dataset {self.dataset!r}; choose one of {', '.join(CONVERTERS)}")
        bad = [v for v in self.views if v not in CATEGORIES]
        if bad or not self.views:
            raise EchoError(f"--views takes a comma list of {', '.join(CATEGORIES)}; got {','.join(self.views)}")
        if self.max_images is not None and self.max_images < 1:
            raise EchoError(f"--max-images must be at least 1 (or 0 for no limit), got {self.max_images}")
        if self.splits is not None and not self.splits:
            raise EchoError("--splits names no split")
        if self.checkpoint_every < 1:
            raise EchoError("checkpoint_every must be at least 1")
        total = sum(f for _, f in self.split_fractions)
        if any(f < 0 for _, f in self.split_fractions) or abs(total - 1.0) > FRACTION_TOLERANCE:
            raise EchoError(f"split fractions must be non-negative and sum to 1, got {dict(self.split_fractions)}")

    def fingerprint(self) -> dict:
        """The settings that decide the output (a resumed run must match them)."""
        settings = asdict(self)
        for key in ("overwrite", "checkpoint_every", "progress", "out"):
            settings.pop(key)
        for key in ("root", "reports"):  # the same folder however it is spelled (relative, from elsewhere)
            settings[key] = str(Path(settings[key]).resolve()) if settings[key] else None
        return json.loads(json.dumps(settings))  # tuples as lists: equal to the copy saved in a checkpoint


def parse_fractions(text: str) -> tuple[tuple[str, float], ...]:
    """``train=0.7,val=0.1,test=0.2`` -> (("train", 0.7), ...)."""
    pairs = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        try:
            pairs.append((name.strip(), float(value)))
        except ValueError:
            raise EchoError(f"split fraction {part!r} is not NAME=FRACTION") from None
        if not sep or not name.strip():
            raise EchoError(f"split fraction {part!r} is not NAME=FRACTION")
    return tuple(pairs)
