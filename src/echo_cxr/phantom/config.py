"""Typed, validated configuration of the phantom generator (images, findings mix, nuisance)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from echo_cxr.errors import EchoError
from echo_cxr.phantom.catalog import CATALOG, CATALOG_BY_NAME

GENERATOR_VERSION = "1.0.0"  # bump whenever the same (seed, index) would give other bytes

IMAGE_FORMATS = ("png", "dicom")
BIT_DEPTHS = (8, 16)
MONOCHROMES = (1, 2)
MIN_IMAGE_SIZE, MAX_IMAGE_SIZE = 128, 4096
DICOM_BITS_RANGE = (8, 16)
PNG_LEVELS = range(0, 10)
DEFAULT_NORMAL_FRACTION = 1.0 / 3.0
DEFAULT_LATERAL_PROB = 0.25
DEFAULT_MAX_FINDINGS = 5
DEFAULT_PNG_COMPRESS_LEVEL = 1  # Huffman-only deflate: fast, and as small as level 6 on noise


def _check_fraction(name: str, value: float) -> None:
    if not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise EchoError(f"{name} must be a number in [0, 1], got {value!r}")


def default_prevalence() -> dict[str, float]:
    """Catalog prevalences (probability of each finding in a study that is not normal)."""
    return {spec.name: spec.prevalence for spec in CATALOG}


@dataclass(frozen=True)
class PhantomConfig:
    """How phantom studies look.

    image_size: side of the square views in pixels (rendered at half size, then upsampled).
    bit_depth: 8 or 16 bits per pixel for PNG output.
    image_format: "png" or "dicom" (DICOM: 16-bit allocated, ``dicom_bits_stored`` used).
    monochrome: DICOM photometric interpretation, 2 (white = dense) or 1 (inverted storage).
    lateral_prob: probability that a study also has a lateral view.
    normal_fraction: probability that a study has no finding at all.
    prevalence: overrides of per-finding prevalence (in non-normal studies) by catalog name.
    max_findings: most findings (devices included) in one study; keeps reports <= 150 words.
    nuisance: scale of the per-study nuisance variation (pose, exposure, noise, blur); 0 = off.
    png_compress_level: 0 = stored, 1 = Huffman-only (fast), 2-9 = zlib levels.
    """

    image_size: int = 512
    bit_depth: int = 8
    image_format: str = "png"
    monochrome: int = 2
    dicom_bits_stored: int = 12
    lateral_prob: float = DEFAULT_LATERAL_PROB
    normal_fraction: float = DEFAULT_NORMAL_FRACTION
    prevalence: dict[str, float] = field(default_factory=dict)
    max_findings: int = DEFAULT_MAX_FINDINGS
    nuisance: float = 1.0
    png_compress_level: int = DEFAULT_PNG_COMPRESS_LEVEL

    def __post_init__(self) -> None:
        if not isinstance(self.image_size, int) or not (
                MIN_IMAGE_SIZE <= self.image_size <= MAX_IMAGE_SIZE):
            raise EchoError(f"image size must be an integer in [{MIN_IMAGE_SIZE}, "
                            f"{MAX_IMAGE_SIZE}], got {self.image_size!r}")
        if self.bit_depth not in BIT_DEPTHS:
            raise EchoError(f"bit depth must be 8 or 16, got {self.bit_depth!r}")
        if self.image_format not in IMAGE_FORMATS:
            raise EchoError(f"image format must be one of {', '.join(IMAGE_FORMATS)}, "
                            f"got {self.image_format!r}")
        if self.monochrome not in MONOCHROMES:
            raise EchoError(f"monochrome must be 1 or 2, got {self.monochrome!r}")
        low, high = DICOM_BITS_RANGE
        if not isinstance(self.dicom_bits_stored, int) or not low <= self.dicom_bits_stored <= high:
            raise EchoError(f"DICOM bits stored must be in [{low}, {high}]")
        _check_fraction("lateral probability", self.lateral_prob)
        _check_fraction("normal fraction", self.normal_fraction)
        self._check_prevalence()
        if not isinstance(self.max_findings, int) or self.max_findings < 1:
            raise EchoError(f"max findings must be a positive integer, got {self.max_findings!r}")
        if not isinstance(self.nuisance, (int, float)) or not 0.0 <= self.nuisance <= 2.0:
            raise EchoError(f"nuisance must be in [0, 2], got {self.nuisance!r}")
        if self.png_compress_level not in PNG_LEVELS:
            raise EchoError("PNG compress level must be an integer in [0, 9]")

    def _check_prevalence(self) -> None:
        if not isinstance(self.prevalence, dict):
            raise EchoError("prevalence must be a mapping of finding name to probability")
        for name, value in self.prevalence.items():
            if name not in CATALOG_BY_NAME:
                raise EchoError(f"unknown finding {name!r} in prevalence; known findings: "
                                f"{', '.join(CATALOG_BY_NAME)}")
            _check_fraction(f"prevalence of {name}", value)
        object.__setattr__(self, "prevalence", {k: float(v) for k, v in
                                                sorted(self.prevalence.items())})

    def effective_prevalence(self) -> dict[str, float]:
        """Catalog prevalences with this config's overrides applied."""
        return {**default_prevalence(), **self.prevalence}

    @property
    def work_size(self) -> int:
        """Side of the internal canvas; smooth anatomy is drawn there, then upsampled."""
        return max(MIN_IMAGE_SIZE, self.image_size // 2)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for manifests."""
        return asdict(self)


def parse_prevalence(items: list[str] | None) -> dict[str, float]:
    """``["pneumothorax=0.2", ...]`` (the CLI's repeatable option) -> {name: probability}."""
    out: dict[str, float] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep:
            raise EchoError(f"prevalence must look like NAME=P, got {item!r}")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise EchoError(f"prevalence of {name.strip()!r} is not a number: {value!r}") from None
    return out
