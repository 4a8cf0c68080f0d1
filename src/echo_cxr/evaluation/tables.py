"""Markdown / CSV tables: one run's scores (``score``), and several runs side by side with the
relative change against a baseline row (``report``; the layout of the paper's Table 1: one row
per model, quality then speed columns, METHOD.md section 7).

Percent-like metrics (F1, ROUGE, BLEU, METEOR, RaTE, SemScore...) are shown x100 in comparison
tables; CIDEr-D, perplexity, TPF and TPS as they are. Relative change = (row - baseline) /
baseline, in percent.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path

from echo_cxr.errors import EchoError

DEFAULT_COLUMNS = ("release_rouge_l", "cider_d", "ratescore_positive", "semscore", "repetition_share", "tpf", "tps")
SPEED_COLUMNS = ("tpf", "tps")
PERCENT = 100.0
VIEW_TITLES = {"all": "all outputs (empty outputs scored as empty text)",
               "nonempty": "non-empty outputs only (empty outputs excluded, as the release does)"}
MISSING = "n/a"


def _fmt(value: float | None, digits: int = 4) -> str:
    return MISSING if value is None else f"{value:.{digits}f}"


def _markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def scores_markdown(aggregate: dict) -> str:
    """The markdown summary of one run's scores."""
    counts = aggregate["counts"]
    parts = [f"# Scores: {aggregate['name']} (run {aggregate['run_id']})", "",
             f"records {counts['records']} (expected {counts['expected']}), scored {counts['scored']}, "
             f"failed {counts['failed']}, empty outputs {counts['empty']}; "
             + ", ".join(f"{k}: {v}" for k, v in counts["by_language"].items()),
             f"text scored: {aggregate['settings']['text']}; draws per input aggregated by "
             f"{aggregate['settings']['aggregate']}"]
    if counts.get("missing"):
        parts.append(f"**incomplete run: {counts['missing']} samples missing** (finish it with `echo-cxr infer --resume`)")
    if aggregate.get("translation_error"):
        parts.append(f"translation failed: {aggregate['translation_error']}")
    for view, groups in aggregate["views"].items():
        columns = list(groups)
        names = sorted({name for group in groups.values() for name in group["metrics"]})
        rows = [[name] + [_cell(groups[c]["metrics"].get(name)) for c in columns] for name in names]
        parts += ["", f"## {VIEW_TITLES.get(view, view)}", "", _markdown(["metric", *columns], rows)]
        skipped = {(c, name): why for c in columns for name, why in groups[c]["not_computed"].items()}
        parts += [f"- not computed ({c}) {name}: {why}" for (c, name), why in skipped.items()]
    speed = aggregate["speed"]
    parts += ["", "## Speed (from the inference records)", "",
              f"TPF {_fmt(speed['tpf'], 3)}, TPS {_fmt(speed['tps'], 1)} (mean per record), "
              f"mean new tokens {_fmt(speed['new_tokens_mean'], 1)}"]
    if aggregate["failures"]:
        parts += ["", "## Failures", ""] + [f"- {f['source']} {f['sample_id']} (draw {f['sample_index']}): "
                                            f"{f['error']}" for f in aggregate["failures"]]
    return "\n".join(parts) + "\n"


def _cell(entry: dict | None) -> str:
    if entry is None:
        return MISSING
    return f"{_fmt(entry['value'])} (n={entry['n']})"


def load_scores(path: str | Path) -> dict:
    """A ``score`` output file, checked."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EchoError(f"scores file not found: {path}") from None
    except json.JSONDecodeError as err:
        raise EchoError(f"{path}: malformed JSON at line {err.lineno} column {err.colno}: {err.msg}") from None
    if not isinstance(data, dict) or "views" not in data or "name" not in data:
        raise EchoError(f"{path} is not an `echo-cxr score` output (no 'views')")
    return data


def _value(scores: dict, column: str, view: str, language: str) -> float | None:
    if column in SPEED_COLUMNS:
        return scores["speed"].get(column)
    if view not in scores["views"] or language not in scores["views"][view]:
        raise EchoError(f"{scores['name']}: no scores for view {view!r} / language {language!r}")
    entry = scores["views"][view][language]["metrics"].get(column)
    return None if entry is None else entry["value"]


def comparison(files: Sequence[str | Path], baseline: str | None, columns: Sequence[str] = DEFAULT_COLUMNS,
               view: str = "all", language: str = "overall") -> list[dict]:
    """One row per scores file: {"model", "baseline", "values" (shown scale), "change" (% vs baseline)}."""
    runs = [load_scores(path) for path in files]
    names = [run["name"] for run in runs]
    if len(set(names)) < len(names):
        raise EchoError(f"two scores files share a name ({', '.join(names)}); give each run `score --name NAME`")
    if baseline is not None and baseline not in names:
        raise EchoError(f"baseline {baseline!r} is not one of the runs: {', '.join(names)}")
    raw = {run["name"]: {c: _value(run, c, view, language) for c in columns} for run in runs}
    rows = []
    for run in runs:
        scale = set(run.get("percent", []))
        values = {c: (v * PERCENT if v is not None and c in scale else v) for c, v in raw[run["name"]].items()}
        change = {c: _change(raw[run["name"]][c], raw[baseline][c]) if baseline else None for c in columns}
        rows.append({"model": run["name"], "baseline": run["name"] == baseline, "values": values, "change": change})
    return rows


def _change(value: float | None, base: float | None) -> float | None:
    if value is None or base is None or base == 0:
        return None
    return (value - base) / abs(base) * PERCENT


def comparison_markdown(rows: Sequence[dict], columns: Sequence[str], title: str = "") -> str:
    """Markdown table: "value (+x.x%)" cells; the baseline row is marked."""
    body = []
    for row in rows:
        cells = []
        for column in columns:
            cell = _fmt(row["values"][column], 2)
            if not row["baseline"] and row["change"][column] is not None:
                cell += f" ({row['change'][column]:+.1f}%)"
            cells.append(cell)
        body.append([row["model"] + (" (baseline)" if row["baseline"] else ""), *cells])
    table = _markdown(["model", *columns], body) + "\n"
    return f"{title}\n\n{table}" if title else table


def comparison_csv(rows: Sequence[dict], columns: Sequence[str]) -> str:
    """CSV: model, baseline flag, then each column's value and its change against the baseline (%)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["model", "baseline"] + [f"{c}{suffix}" for c in columns for suffix in ("", "_change_pct")])
    for row in rows:
        cells = []
        for column in columns:
            cells += ["" if row["values"][column] is None else row["values"][column],
                      "" if row["change"][column] is None else row["change"][column]]
        writer.writerow([row["model"], int(row["baseline"]), *cells])
    return buffer.getvalue()
