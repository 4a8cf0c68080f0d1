"""``python -m echo_cxr.reproduce --profile FILE --workdir DIR [--docs DIR]``."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from echo_cxr.errors import EchoError


def reproduce(
    profile: Path = typer.Option(Path("configs/reproduce/full.yaml"), help="Sizes (configs/reproduce/*.yaml)."),
    workdir: Path = typer.Option(Path("runs/reproduce"), help="Data, runs, evaluations, timings."),
    docs: Path = typer.Option(Path("docs/results"), help="Where phantom.md and its plot are written."),
    results_only: bool = typer.Option(False, "--results-only", help="Only re-render the results document."),
    tower: Path = typer.Option(None, "--tower", help="A finished stage-0 run (e.g. artifacts/phantom-tower) used "
                               "instead of training the vision tower; it must come from this profile's data."),
    adopt: list[str] = typer.Option(None, "--adopt", help="RUN=FOLDER: a finished run used instead of training "
                                    "RUN (e.g. ar=artifacts/phantom-ar); repeatable; same data as this profile."),
    until: str = typer.Option(None, "--until", help="Only make the data and train this run and what it needs "
                              "(e.g. vision; `data`: only the data); no evaluation."),
) -> None:
    from echo_cxr.reproduce.plan import Profile
    from echo_cxr.reproduce.results import write_results
    from echo_cxr.reproduce.runner import DATA_ONLY, Reproduction

    if until not in (None, DATA_ONLY):
        Reproduction.check_run(until)  # before hours of data making, not after
    run = Reproduction(Profile.load(profile), workdir)
    if tower is not None:
        run.adopt_tower(tower)
    for item in adopt or []:
        name, sep, folder = item.partition("=")
        if not sep or not folder:
            raise EchoError(f"--adopt wants RUN=FOLDER, got {item!r}")
        run.adopt(name, Path(folder))
    if until is not None:
        run.make_data()
        if until == DATA_ONLY:
            path = run.data
        else:
            run.train_with_dependencies(until)
            path = run.run_dir(until) / "model"
    else:
        path = write_results(run, docs) if results_only else run.run_all(docs)
    print(path)


def main() -> None:
    try:
        typer.run(reproduce)
    except EchoError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
