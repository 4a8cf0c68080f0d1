"""``echo-cxr data convert | normalize | lookalike``: real datasets -> training data (docs/data.md).

Thin layer: parse options, build a typed config, call one library function, print a summary.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from echo_cxr.errors import EchoError

data_app = typer.Typer(help="Dataset converters and report normalisation (docs/data.md).", no_args_is_help=True,
                       add_completion=False)


def _splits(text: Optional[str]) -> Optional[tuple[str, ...]]:
    from echo_cxr.data.converters.base import official_split

    if text is None or text.strip().lower() == "all":
        return None
    return tuple(official_split(part) for part in text.split(",") if part.strip()) or ()


@data_app.command("convert")
def convert_command(
    dataset: str = typer.Option(..., "--dataset", help="mimic-cxr | chexpert-plus | rexgradient | iu-xray"),
    root: Path = typer.Option(..., "--root", help="The dataset folder as downloaded."),
    out: Path = typer.Option(..., "--out", help="Output folder: <split>.json, manifest.json, dropped.jsonl."),
    splits: Optional[str] = typer.Option(None, "--splits", help="Splits to write, e.g. train,val (default all)."),
    views: str = typer.Option("frontal,lateral,unknown", "--views",
                              help="View categories kept: frontal, lateral, unknown, other."),
    max_images: int = typer.Option(2, "--max-images", help="Images per study (0 = no limit)."),
    validate: bool = typer.Option(False, "--validate", help="Decode every kept image (slow)."),
    reports: Optional[Path] = typer.Option(None, "--reports", help="MIMIC-CXR reports folder, if not under --root."),
    split_fractions: str = typer.Option("train=0.7,val=0.1,test=0.2", "--split-fractions",
                                        help="Hash split of datasets without an official one (IU X-ray)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Redo a finished or differently-set conversion."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Convert a public CXR dataset to the release JSON schema (resumable: rerun to continue)."""
    from echo_cxr.data.config import ConvertConfig, parse_fractions
    from echo_cxr.data.convert import convert
    from echo_cxr.data.views import parse_views

    config = ConvertConfig(dataset=dataset, root=str(root), out=str(out), splits=_splits(splits),
                           views=parse_views(views), max_images=max_images or None, validate=validate,
                           reports=str(reports) if reports else None, split_fractions=parse_fractions(split_fractions),
                           overwrite=overwrite, progress=not quiet)
    manifest = convert(config)
    for split, info in manifest["splits"].items():
        print(f"{split}: {info['studies']} studies -> {out / info['json']}")
    counts = manifest["counts"]
    dropped = ", ".join(f"{reason} {n}" for reason, n in manifest["dropped"].items() if n) or "none"
    print(f"read {counts['studies_read']}, kept {counts['kept']}, dropped {counts['dropped']} ({dropped}), "
          f"not selected {counts['not_selected']}; manifest: {out / 'manifest.json'}")


@data_app.command("lookalike")
def lookalike_command(
    dataset: str = typer.Option(..., "--dataset", help="mimic-cxr | chexpert-plus | rexgradient | iu-xray"),
    out: Path = typer.Option(..., "--out", help="Folder to write the look-alike into (new or empty)."),
    layout: Optional[str] = typer.Option(None, "--layout", help="iu-xray: csv (Kaggle) or xml (OpenI)."),
) -> None:
    """Write a tiny synthetic folder laid out like the real dataset (for trying the tools)."""
    from echo_cxr.data.lookalike import BUILDERS, build_lookalike

    if dataset not in BUILDERS:
        raise EchoError(f"unknown dataset {dataset!r}; choose one of {', '.join(BUILDERS)}")
    if out.exists() and any(out.iterdir()):
        raise EchoError(f"{out} is not empty")
    look = build_lookalike(dataset, out, **({"layout": layout} if layout else {}))
    kept = sum(1 for outcome in look.outcomes().values() if outcome == "kept")
    print(f"{dataset} look-alike: {len(look.studies)} studies ({kept} to keep) in {out}")
    json.dump({sid: e.outcome for sid, e in look.studies.items()}, sys.stdout, indent=1)
    print()


def register(app: typer.Typer) -> None:
    from echo_cxr.cli import data_normalize

    data_normalize.register(data_app)
    app.add_typer(data_app, name="data")
