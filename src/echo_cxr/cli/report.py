"""``echo-cxr report a.json b.json ... --baseline NAME``: runs side by side, change vs a baseline."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer


def report_command(
    scores: list[Path] = typer.Argument(..., help="Scores files written by `echo-cxr score`."),
    baseline: Optional[str] = typer.Option(None, help="Name of the baseline row (a run's --name)."),
    columns: str = typer.Option("release_rouge_l,cider_d,ratescore_positive,semscore,tpf,tps",
                                help="Metrics as columns, comma-separated (any scored metric, tpf, tps)."),
    view: str = typer.Option("all", help="all (empty outputs scored as empty) | nonempty (release)."),
    lang: str = typer.Option("overall", help="overall | en | zh."),
    fmt: str = typer.Option("markdown", "--format", help="markdown | csv."),
    out: Optional[Path] = typer.Option(None, help="Write the table here (default: print it)."),
) -> None:
    """One table of several scored runs, with the relative change against a baseline row."""
    from echo_cxr.errors import EchoError
    from echo_cxr.evaluation.tables import comparison, comparison_csv, comparison_markdown

    if fmt not in ("markdown", "csv"):
        raise EchoError(f"unknown format {fmt!r}; choose markdown or csv")
    names = [c.strip() for c in columns.split(",") if c.strip()]
    if not names:
        raise EchoError("no column given (--columns)")
    rows = comparison(scores, baseline, names, view=view, language=lang)
    title = f"Scores ({lang}, view {view})" + (f"; change vs {baseline}" if baseline else "")
    text = comparison_markdown(rows, names, title) if fmt == "markdown" else comparison_csv(rows, names)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        print(f"wrote {out}", file=sys.stderr)


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)
