"""Rendering benchmark reports: markdown tables and the TPF-vs-quality plot (paper Fig. 1b)."""

from __future__ import annotations

from pathlib import Path

from echo_cxr.decoding.profile import PHASES
from echo_cxr.model.quantize import ASKED_FOR


def _fmt(value, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def cpu_line(report: dict) -> str:
    """'CPU: model; flags ...; limits' of a CPU report ('' for a GPU one)."""
    cpu = report.get("cpu")
    if not cpu:
        return ""
    limits = cpu.get("limits", "")
    return (f"CPU: {cpu['model']}; flags {' '.join(cpu['flags']) or 'none of avx/avx2/avx512/amx'}"
            + (f"; limited by {limits}" if limits else "") + ".\n\n")


def best_lines(report: dict) -> str:
    """'best ECHO / best AR' per (run, batch), each mode in its fastest measured format."""
    lines = [f"Best ECHO / best AR ({b['run']}, batch {b['batch_size']}): {b['echo']['mode']} "
             f"{b['echo']['quantize']} {b['echo']['tokens_per_second']:.1f} tok/s / ar {b['ar']['quantize']} "
             f"{b['ar']['tokens_per_second']:.1f} tok/s = **{b['ratio']:.2f}x**." for b in report.get("best", [])]
    return "\n\n" + "\n".join(lines) + "\n" if lines else ""


def decode_markdown(report: dict) -> str:
    """One table row per (run, batch, format, mode): TPF, TPS, speed-up, phase medians; the CPU it
    ran on; the best-ECHO / best-AR summary."""
    formats = sorted({r.get("quantize", "none") for r in report["results"]})
    numeric = report["dtype"] + (f" + {formats[0]} linear" if formats != ["none"] and len(formats) == 1 else "")
    agreement = "reference" in report
    reason = report.get("quantize_reason")
    choice = f"--quantize {report['quantize']}" + (f" ({reason})" if reason and reason != ASKED_FOR else "")
    head = (f"Model `{report['model']}` ({numeric}, {report['device']}; {report['machine']}), "
            f"{report['date']}, block length {report['config']['block_length']}, "
            f"{report['config']['max_new_tokens']} new tokens, median of {report['config']['repeats']}; "
            f"{choice}.\n\n" + cpu_line(report))
    many = len(formats) > 1
    columns = ["run", "batch", *(["format"] if many else []), "mode", "L", "S", "fused", "tokens", "forwards", "TPF",
               "tok/s", "x AR", *[f"{p} s" for p in PHASES], "overhead", *(["agree"] if agreement else [])]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in report["results"]:
        cells = [r["run"], str(r["batch_size"]), *([r.get("quantize", "none")] if many else []), r["mode"],
                 str(r["block_length"]), str(r["steps"]),
                 {True: "yes", False: "no", None: "-"}[r["fused"]], str(r["new_tokens"]), str(r["forward_passes"]),
                 _fmt(r["tokens_per_forward"]), _fmt(r["tokens_per_second"], 1), _fmt(r["speedup_vs_ar"]),
                 *[_fmt(r["phases"][p], 3) for p in PHASES], f"{100 * r['overhead_fraction']:.1f}%"]
        if agreement:
            cells.append(_fmt(r["token_agreement"], 3))
        lines.append("| " + " | ".join(cells) + " |")
    if agreement:
        ref = report["reference"]
        head += (f"agree = share of output tokens equal to the reference run ({ref['dtype']}, "
                 f"quantize {ref.get('quantize') or 'none'}, {ref['date']}).\n\n")
    return head + "\n".join(lines) + "\n" + best_lines(report)


def plot_tpf_vs_quality(report: dict, quality: dict[str, float], path: Path, metric: str = "quality") -> Path:
    """Scatter of TPF (x) against a quality score per mode (y), from the batch-1 fixed runs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in report["results"] if r["batch_size"] == min(report["config"]["batch_sizes"])]
    by_mode = {}
    for row in rows:
        by_mode.setdefault(row["mode"], row)
    figure, axis = plt.subplots(figsize=(5, 4))
    for mode, score in quality.items():
        if mode in by_mode:
            axis.scatter(by_mode[mode]["tokens_per_forward"], score)
            axis.annotate(mode, (by_mode[mode]["tokens_per_forward"], score), textcoords="offset points",
                          xytext=(4, 4))
    axis.set_xlabel("tokens per forward (TPF)")
    axis.set_ylabel(metric)
    axis.set_title(f"{report['model']}: speed vs quality")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
