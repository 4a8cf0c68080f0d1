"""``echo-cxr phantom``: write a Phantom CXR data set (synthetic radiographs + EN/ZH reports).

Thin layer: parse options, build ``PhantomConfig`` / split fractions, call
``echo_cxr.phantom.write_dataset``, print a summary. Bad input raises ``EchoError`` (exit 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from echo_cxr.errors import EchoError

SHEET_STUDIES = 12


def _parse_splits(splits: str, split: Optional[str]) -> dict[str, float]:
    from echo_cxr.phantom.dataset import parse_splits

    if split is not None:
        return {split: 1.0}
    return parse_splits(splits)


def phantom(
    out: Path = typer.Option(..., "--out", help="Output folder (must be new or empty)."),
    n: int = typer.Option(..., "--n", help="Total number of studies over all splits."),
    seed: int = typer.Option(0, "--seed", help="Master seed (same seed -> identical files)."),
    lang: str = typer.Option("en", "--lang", help="Report language: en, zh or both."),
    splits: str = typer.Option("train=0.8,val=0.1,test=0.1", "--splits",
                               help="Split fractions, NAME=FRACTION,..."),
    split: Optional[str] = typer.Option(None, "--split",
                                        help="Write one split holding all studies."),
    image_size: int = typer.Option(512, "--image-size", help="Side of the square images (px)."),
    bit_depth: int = typer.Option(8, "--bit-depth", help="PNG bit depth: 8 or 16."),
    image_format: str = typer.Option("png", "--format", help="Image format: png or dicom."),
    monochrome: int = typer.Option(2, "--monochrome", help="DICOM photometric: 1 or 2."),
    lateral_prob: float = typer.Option(0.25, "--lateral-prob",
                                       help="Probability of a lateral view per study."),
    prevalence: Optional[list[str]] = typer.Option(None, "--prevalence",
                                                   help="NAME=P override (repeatable)."),
    normal_fraction: float = typer.Option(1.0 / 3.0, "--normal-fraction",
                                          help="Share of studies without findings."),
    nuisance: float = typer.Option(1.0, "--nuisance", help="Pose/exposure/noise variation scale."),
    workers: int = typer.Option(0, "--workers",
                                help="Worker processes (0 = one per CPU, up to 4)."),
    overwrite: bool = typer.Option(False, "--overwrite",
                                   help="Replace an existing phantom data set in --out."),
    contact_sheet: Optional[Path] = typer.Option(None, "--contact-sheet",
                                                 help="Also save a PNG grid of the first studies."),
) -> None:
    """Write a synthetic chest X-ray benchmark with exact ground truth (Phantom CXR)."""
    from echo_cxr.phantom import PhantomConfig, write_dataset
    from echo_cxr.phantom.config import parse_prevalence
    from echo_cxr.phantom.dataset import default_workers

    config = PhantomConfig(image_size=image_size, bit_depth=bit_depth, image_format=image_format,
                           monochrome=monochrome, lateral_prob=lateral_prob,
                           prevalence=parse_prevalence(prevalence),
                           normal_fraction=normal_fraction, nuisance=nuisance)
    manifest = write_dataset(out, n=n, seed=seed, lang=lang, config=config,
                             splits=_parse_splits(splits, split), overwrite=overwrite,
                             workers=workers or default_workers())
    for name, info in manifest["splits"].items():
        typer.echo(f"{name}: {info['studies']} studies, {info['samples']} samples -> "
                   f"{out / info['json']}")
    counts = manifest["counts"]
    typer.echo(f"normal studies: {counts['normal']}/{counts['studies']}; manifest: "
               f"{out / 'manifest.json'}")
    if contact_sheet is not None:
        _write_sheet(out, manifest, contact_sheet, lang)


def _write_sheet(out: Path, manifest: dict, path: Path, lang: str) -> None:
    from echo_cxr.phantom import contact_sheet_from_dataset, load_dataset

    first = next((info for info in manifest["splits"].values() if info["studies"]), None)
    if first is None:
        raise EchoError("no studies to put on the contact sheet")
    samples = load_dataset(out / first["json"], lang="zh" if lang == "zh" else "en")
    typer.echo(f"contact sheet: {contact_sheet_from_dataset(samples, path, n=SHEET_STUDIES)}")


def register(app: typer.Typer) -> None:
    """Add the ``phantom`` command to the ``echo-cxr`` app."""
    app.command("phantom")(phantom)
