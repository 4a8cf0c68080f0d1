"""The reproduction issue's targets (issue 13, "Done when"), checked against the measured numbers
on every test set the reproduction scored (its own and the second seed drawn at the end).

Each target line reports the value on each test set and is met only when it holds on all of them.
"""

from __future__ import annotations

from collections.abc import Callable

BUDGET_FROM_NOTHING_HOURS = 8.0
BUDGET_FROM_TOWER_HOURS = 4.0
TOWER_STAGES = ("train vision_first", "data vision_extra", "train vision")  # what a committed tower replaces
PROBE_F1, DEVICE_RECALL = 0.95, 0.97
AR_F1 = 0.90
BASE_VS_AR, DCD_VS_BASE = 0.95, 0.95
BASE_TPF = 2.0
NATIVE_DROP = 0.15
MAX_REPETITION = 0.01  # share of EN words that repeat their neighbour
DEVICES = ("endotracheal_tube", "nasogastric_tube", "central_venous_catheter", "pacemaker")
REPETITION_MODELS = ("ECHO-Base blk4", "ECHO-Base blk8", "ECHO blk4 (DCD)", "ECHO blk8 (DCD)")


def _f1(rows, label):
    return rows[label]["metrics"]["overall"].get("phantom_micro_f1") if label in rows else None


def _line(ok, text) -> str:
    mark = "n/a" if ok is None else ("met" if ok else "**missed**")
    return f"| {text} | {mark} |"


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def _ratio(a, b):
    return None if a is None or not b else a / b


def _over_sets(sets: dict[str, dict], value: Callable[[dict], float | None], ok: Callable[[float], bool]):
    """(met on every test set, or None if unmeasured somewhere; "seed: value, ..." text)."""
    values = {name: value(rows) for name, rows in sets.items()}
    text = ", ".join(f"{name} {_fmt(v)}" for name, v in values.items())
    if not values or any(v is None for v in values.values()):
        return None, text
    return all(ok(v) for v in values.values()), text


def _probe_lines(probes: dict[str, dict]) -> list[str]:
    ok, text = _over_sets(probes, lambda p: p["metrics"]["overall"].get("phantom_micro_f1") if p else None,
                          lambda v: v >= PROBE_F1)
    lines = [_line(ok, f"stage-0 tower + probe micro-F1 >= {PROBE_F1} ({text})")]
    worst = lambda p: min(p["per_finding"].get(d, {}).get("recall", 0.0) for d in DEVICES) if p else None
    ok, text = _over_sets(probes, worst, lambda v: v >= DEVICE_RECALL)
    lines.append(_line(ok, f"stage-0 tower: every device recall >= {DEVICE_RECALL} (lowest: {text})"))
    return lines


def _model_lines(sets: dict[str, dict]) -> list[str]:
    ok, text = _over_sets(sets, lambda r: _f1(r, "ECHO-AR"), lambda v: v >= AR_F1)
    lines = [_line(ok, f"ECHO-AR micro-F1 >= {AR_F1} ({text})")]
    for block in (8, 4):
        base, echo = f"ECHO-Base blk{block}", f"ECHO blk{block} (DCD)"
        ok, text = _over_sets(sets, lambda r: _ratio(_f1(r, base), _f1(r, "ECHO-AR")), lambda v: v >= BASE_VS_AR)
        lines.append(_line(ok, f"{base} micro-F1 >= {BASE_VS_AR} x ECHO-AR (ratio {text})"))
        ok, text = _over_sets(sets, lambda r: r[base]["tpf"] if base in r else None, lambda v: v >= BASE_TPF)
        lines.append(_line(ok, f"{base} TPF >= {BASE_TPF} (tau 0.85; {text})"))
        ok, text = _over_sets(sets, lambda r: _ratio(_f1(r, echo), _f1(r, base)), lambda v: v >= DCD_VS_BASE)
        lines.append(_line(ok, f"{echo} micro-F1 >= {DCD_VS_BASE} x {base} (ratio {text})"))
        ok, text = _over_sets(sets, lambda r: r[echo]["block_tpf"] if echo in r else None,
                              lambda v: abs(v - block) < 1e-9)
        lines.append(_line(ok, f"{echo} at TPF/blk {block}.00 ({text})"))
    drop = lambda r: None if _ratio(_f1(r, "Native one-step blk8"), _f1(r, "ECHO blk8 (DCD)")) is None else \
        1 - _ratio(_f1(r, "Native one-step blk8"), _f1(r, "ECHO blk8 (DCD)"))
    ok, text = _over_sets(sets, drop, lambda v: v >= NATIVE_DROP)
    lines.append(_line(ok, f"native one-step blk8 micro-F1 >= {NATIVE_DROP:.0%} below ECHO blk8 (DCD) (drop {text})"))
    for label in REPETITION_MODELS:
        share = lambda r: r[label]["metrics"]["en"].get("repetition_share") if label in r else None
        ok, text = _over_sets(sets, share, lambda v: v <= MAX_REPETITION)
        lines.append(_line(ok, f"{label}: adjacent repeated words <= {MAX_REPETITION:.0%} of EN words ({text})"))
    return lines


def _budget_lines(timings: dict) -> list[str]:
    total = sum(timings.values()) / 3600
    tower = sum(v for k, v in timings.items() if k in TOWER_STAGES) / 3600
    return [_line(total <= BUDGET_FROM_NOTHING_HOURS if timings else None,
                  f"whole reproduction from nothing <= {BUDGET_FROM_NOTHING_HOURS:.0f} h (measured {total:.2f} h)"),
            _line(total - tower <= BUDGET_FROM_TOWER_HOURS if timings else None,
                  f"from the committed tower <= {BUDGET_FROM_TOWER_HOURS:.0f} h (measured {total - tower:.2f} h)")]


def check_targets(sets: dict[str, dict], probes: dict[str, dict], timings: dict) -> str:
    """``sets``: test-set name -> {model label: loaded scores}; ``probes``: test-set name -> the
    stage-0 probe's scores (or None)."""
    lines = ["| target (measured per test set) | status |", "|---|---|"]
    lines += _probe_lines(probes) + _model_lines(sets) + _budget_lines(timings)
    return "\n".join(lines)
