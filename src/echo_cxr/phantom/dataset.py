"""Writing phantom data sets in the release's JSON schema (METHOD.md section 1), and reading them.

Layout of ``out_dir``::

    manifest.json                      generator version, seed, config, counts, prevalence
    <split>/<split>.json               JSON list of samples (one per study and language)
    <split>/images/<NNNNNN>_frontal.png (or .dcm), <NNNNNN>_lateral.png when drawn

A sample: {"sample_id", "study_id", "language", "images": [paths relative to the JSON folder],
"ground_truth": {"findings", "impression"}, "labels": [canonical labels], "views"}. With
``lang="both"`` each study gives an EN and a ZH sample (ids end in -en / -zh, same images).
Splits own disjoint index ranges of the master seed (split k starts at index k * 2**32), so
train, val and test never share a study whatever their sizes.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import shutil
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from echo_cxr.errors import EchoError
from echo_cxr.phantom.config import GENERATOR_VERSION, PhantomConfig
from echo_cxr.phantom.dataset_stats import manifest_counts
from echo_cxr.phantom.io import DicomInfo, write_view
from echo_cxr.phantom.reports import LANGUAGES
from echo_cxr.phantom.study import generate_study

LANG_CHOICES = ("en", "zh", "both")
DEFAULT_SPLITS = {"train": 0.8, "val": 0.1, "test": 0.1}
SPLIT_STRIDE = 1 << 32  # index range owned by each split
KNOWN_SPLITS = ("train", "val", "test")
MANIFEST = "manifest.json"
STUDY_ID_PREFIX = "phantom-"  # every study and sample id written here starts with it
MAX_WORKERS = 64
AUTO_WORKERS_MAX = 4
CHUNK = 8  # studies per task sent to a worker


def default_workers() -> int:
    """Worker processes used when none is asked for: the CPUs, at most ``AUTO_WORKERS_MAX``."""
    return max(1, min(os.cpu_count() or 1, AUTO_WORKERS_MAX))


def split_base(name: str) -> int:
    """First study index of split ``name`` (train/val/test: 0, 1, 2 strides; others hashed)."""
    if name in KNOWN_SPLITS:
        return KNOWN_SPLITS.index(name) * SPLIT_STRIDE
    return (len(KNOWN_SPLITS) + zlib.crc32(name.encode()) % (1 << 20)) * SPLIT_STRIDE


def split_counts(n: int, splits: dict[str, float]) -> dict[str, int]:
    """Largest-remainder rounding of ``n`` studies over split fractions (sums to ``n``)."""
    total = sum(splits.values())
    raw = {name: n * frac / total for name, frac in splits.items()}
    counts = {name: math.floor(v) for name, v in raw.items()}
    by_remainder = sorted(raw, key=lambda k: (-(raw[k] - counts[k]), list(splits).index(k)))
    for name in by_remainder[: n - sum(counts.values())]:
        counts[name] += 1
    return counts


@dataclass(frozen=True)
class DatasetConfig:
    """What to write: where, how many studies, which seed, languages and splits."""

    out_dir: Path
    n: int
    seed: int = 0
    lang: str = "en"
    splits: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SPLITS))
    overwrite: bool = False
    workers: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "out_dir", Path(self.out_dir))
        if isinstance(self.n, bool) or not isinstance(self.n, int) or self.n <= 0:
            raise EchoError(f"number of studies must be a positive integer, got {self.n!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise EchoError(f"seed must be a non-negative integer, got {self.seed!r}")
        if self.lang not in LANG_CHOICES:
            raise EchoError(f"unknown language {self.lang!r}; choose one of "
                            f"{', '.join(LANG_CHOICES)}")
        if not self.splits:
            raise EchoError("give at least one split")
        for name, frac in self.splits.items():
            if not name or not name.replace("_", "").replace("-", "").isalnum():
                raise EchoError(f"split names must be letters, digits, - or _, got {name!r}")
            if not isinstance(frac, (int, float)) or frac <= 0:
                raise EchoError(f"split {name!r} needs a positive fraction, got {frac!r}")
        if not isinstance(self.workers, int) or not 1 <= self.workers <= MAX_WORKERS:
            raise EchoError(f"workers must be an integer in [1, {MAX_WORKERS}]")

    @property
    def languages(self) -> tuple[str, ...]:
        return LANGUAGES if self.lang == "both" else (self.lang,)


def parse_splits(text: str) -> dict[str, float]:
    """``"train=0.8,val=0.1,test=0.1"`` -> {"train": 0.8, ...}."""
    out: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        try:
            out[name.strip()] = float(value) if sep else float("nan")
        except ValueError:
            raise EchoError(f"split fraction of {name.strip()!r} is not a number: "
                            f"{value!r}") from None
        if not sep or math.isnan(out[name.strip()]):
            raise EchoError(f"splits must look like NAME=FRACTION,..., got {item!r}")
    return out


def _prepare_out_dir(out_dir: Path, overwrite: bool) -> None:
    """Create ``out_dir``; refuse to touch an existing non-empty folder unless asked."""
    if out_dir.exists() and not out_dir.is_dir():
        raise EchoError(f"output path {out_dir} exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not overwrite:
            raise EchoError(f"output folder {out_dir} is not empty; pass --overwrite to replace it")
        if not (out_dir / MANIFEST).is_file():
            raise EchoError(f"refusing to overwrite {out_dir}: it is not empty and holds no "
                            f"phantom {MANIFEST}")
        shutil.rmtree(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise EchoError(f"cannot write to output folder {out_dir}: {err.strerror or err}") from None


@dataclass(frozen=True)
class _Job:
    """Everything a worker needs to write one chunk of a split (picklable)."""

    split: str
    seed: int
    base: int
    image_dir: str
    languages: tuple[str, ...]
    config: PhantomConfig


def _suffix(config: PhantomConfig) -> str:
    return ".dcm" if config.image_format == "dicom" else ".png"


def _write_study(job: _Job, i: int) -> list[dict[str, Any]]:
    """Render and save study ``i`` of a split; return its samples (one per language)."""
    study = generate_study(job.seed, job.base + i, job.config)
    study_id = f"{STUDY_ID_PREFIX}s{job.seed}-{job.split}-{i:06d}"
    paths = []
    for view, picture in study.views.items():
        name = f"{i:06d}_{view}{_suffix(job.config)}"
        info = DicomInfo(study_id, view, job.config.monochrome, job.config.dicom_bits_stored)
        write_view(Path(job.image_dir) / name, picture, job.config.image_format,
                   job.config.bit_depth, job.config.png_compress_level, info)
        paths.append(f"images/{name}")
    return [{"sample_id": f"{study_id}-{lang}", "study_id": study_id, "language": lang,
             "images": paths, "ground_truth": study.reports[lang].to_dict(),
             "labels": study.labels, "views": list(study.views)} for lang in job.languages]


def _write_chunk(args: tuple[_Job, int, int]) -> list[dict[str, Any]]:
    job, start, stop = args
    return [sample for i in range(start, stop) for sample in _write_study(job, i)]


def _run(job: _Job, count: int, workers: int) -> list[dict[str, Any]]:
    tasks = [(job, s, min(s + CHUNK, count)) for s in range(0, count, CHUNK)]
    if workers == 1 or len(tasks) == 1:
        chunks = [_write_chunk(t) for t in tasks]
    else:
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        with context.Pool(workers) as pool:
            chunks = pool.map(_write_chunk, tasks, chunksize=1)
    return [sample for chunk in chunks for sample in chunk]


def _dump(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def write_dataset(out_dir: str | Path, n: int, seed: int = 0, lang: str = "en",
                  config: PhantomConfig | None = None, splits: dict[str, float] | None = None,
                  overwrite: bool = False, workers: int = 1) -> dict[str, Any]:
    """Write ``n`` phantom studies spread over ``splits``; return the manifest (also saved).

    Deterministic: the same arguments give byte-identical files, whatever ``workers``.
    """
    spec = DatasetConfig(Path(out_dir), n, seed, lang,
                         dict(DEFAULT_SPLITS if splits is None else splits), overwrite, workers)
    config = config or PhantomConfig()
    _prepare_out_dir(spec.out_dir, spec.overwrite)
    split_info: dict[str, Any] = {}
    all_samples: list[dict[str, Any]] = []
    for split, count in split_counts(spec.n, spec.splits).items():
        folder = spec.out_dir / split
        (folder / "images").mkdir(parents=True, exist_ok=True)
        job = _Job(split, spec.seed, split_base(split), str(folder / "images"), spec.languages,
                   config)
        samples = _run(job, count, spec.workers) if count else []
        _dump(folder / f"{split}.json", samples)
        split_info[split] = {"studies": count, "samples": len(samples),
                             "first_index": job.base, "json": f"{split}/{split}.json"}
        all_samples += samples
    manifest = {"generator": "echo-cxr phantom", "generator_version": GENERATOR_VERSION,
                "seed": spec.seed, "lang": spec.lang, "n_studies": spec.n, "splits": split_info,
                "config": config.to_dict(), **manifest_counts(all_samples, config)}
    _dump(spec.out_dir / MANIFEST, manifest)
    return manifest


def load_dataset(json_path: str | Path, lang: str | None = None) -> list[dict[str, Any]]:
    """Samples of a release-format JSON file with image paths made absolute.

    Works for phantom data sets and for the release's own test sets (no ``labels`` there).
    ``lang`` keeps only samples of that language ("en"/"zh"; detected from the text if the
    sample has no ``language`` field).
    """
    from echo_cxr.prompts import detect_language

    path = Path(json_path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise EchoError(f"cannot read data set {path}: {err}") from None
    if not isinstance(data, list):
        raise EchoError(f"data set {path} must hold a JSON list of samples")
    out = []
    for k, sample in enumerate(data):
        if not isinstance(sample, dict) or not isinstance(sample.get("images"), list):
            raise EchoError(f"sample {k} of {path} has no 'images' list")
        truth = sample.get("ground_truth") or {}
        sample_lang = sample.get("language") or detect_language(
            f"{truth.get('findings', '')}{truth.get('impression', '')}")
        if lang is not None and sample_lang != lang:
            continue
        images = [str((path.parent / p).resolve()) for p in sample["images"]]
        out.append({**sample, "images": images, "language": sample_lang})
    return out
