"""``echo-cxr bench decode``: the decode-speed profiler (prints numbers; writes JSON/markdown)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from echo_cxr.cli import options

bench_app = typer.Typer(help="Benchmarks that print numbers.", no_args_is_help=True)


def _ints(text: str) -> tuple[int, ...]:
    from echo_cxr.errors import EchoError

    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise EchoError(f"expected comma-separated integers, got {text!r}") from None


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


@bench_app.command("decode")
def decode_command(
    model: Optional[str] = typer.Option(None, help="Checkpoint folder, hub id or random:PRESET."),
    batch_sizes: str = typer.Option("1", help="Comma-separated batch sizes, e.g. 1,4,8."),
    block_length: int = typer.Option(8, help="Block length L of the diffusion modes."),
    threshold: float = typer.Option(0.85, help="tau of the multi-step mode."),
    max_new_tokens: int = typer.Option(128, help="Token budget (exact length in fixed runs)."),
    runs: str = typer.Option("fixed,natural", help="fixed (--ignore-eos) and/or natural (stop at EOS)."),
    modes: str = typer.Option("ar,multi_step,one_step,one_step_unfused", help="Modes to measure."),
    repeats: int = typer.Option(3, help="Measured repeats (median reported)."),
    warmup: int = typer.Option(1, help="Unmeasured warm-up runs per setting."),
    image: list[Path] = typer.Option([], help="Images to use (repeatable); default: noise images."),
    seed: int = typer.Option(0, help="Seed of random:PRESET weights and noise images."),
    dtype: str = typer.Option("float32"),
    device: str = typer.Option("cpu"),
    attention: options.Attention = "sdpa",
    quantize: str = typer.Option("auto", help="auto | none | int8 | bf16, or several comma-separated (each "
                                               "measured in turn; the summary gives each mode its best)."),
    reference: Optional[Path] = typer.Option(None, help="JSON report of an earlier run (e.g. float32): token "
                                                        "agreement of every row with the same row there "
                                                        "(default with several formats incl. none: their "
                                                        "float32 rows)."),
    threads: Optional[int] = typer.Option(None, help="torch CPU threads (default: torch's choice)."),
    as_json: bool = typer.Option(False, "--json", help="Print the JSON report instead of the table."),
    out: Optional[Path] = typer.Option(None, help="Write the JSON report here."),
    markdown: Optional[Path] = typer.Option(None, help="Write the markdown table here."),
    quality: Optional[Path] = typer.Option(None, help="JSON {mode: score} for the TPF-vs-quality plot."),
    plot: Optional[Path] = typer.Option(None, help="PNG path of the TPF-vs-quality plot."),
) -> None:
    """AR vs multi-step vs one-step (fused/unfused) decode speed on one model, in one run."""
    import torch

    from echo_cxr.bench.decode import DecodeBenchConfig, add_agreement, merge_format_reports, run_decode_bench
    from echo_cxr.bench.render import decode_markdown, plot_tpf_vs_quality
    from echo_cxr.errors import EchoError
    from echo_cxr.model import load
    from echo_cxr.model.quantize import check_quantization
    from echo_cxr.pipeline import default_model

    bench = DecodeBenchConfig(
        block_length=block_length, threshold=threshold, batch_sizes=_ints(batch_sizes),
        max_new_tokens=max_new_tokens, runs=_names(runs), modes=_names(modes), repeats=repeats,
        warmup=warmup, seed=seed,
    )
    if (quality is None) != (plot is None):
        raise EchoError("--quality and --plot go together")
    formats = _names(quantize)
    for name in formats:
        check_quantization(name)
    if not formats:
        raise EchoError("--quantize needs at least one format")
    if threads:
        torch.set_num_threads(threads)
    if model is None:
        model, notice = default_model()
        print(notice, file=sys.stderr)
    progress = lambda row: print(f"  {row['run']:7s} batch {row['batch_size']:3d} {row['mode']:17s} "
                                 f"{row['quantize']:4s} TPF {row['tokens_per_forward']:.2f}  {row['tokens_per_second']:.1f} tok/s",
                                 file=sys.stderr)
    reports = []
    for name in formats:  # one load per format: each starts from the same float32 weights
        bundle = load(model, device=device, dtype=dtype, seed=seed, attention=attention, quantize=name)
        reports.append(run_decode_bench(bundle, bench, images=[str(p) for p in image] or None, progress=progress))
        del bundle
    report = merge_format_reports(reports)
    if reference is not None:
        add_agreement(report, json.loads(reference.read_text()))
    elif len(reports) > 1 and "none" in formats:  # agreement with this run's own float32 rows
        add_agreement(report, reports[formats.index("none")])
    table = decode_markdown(report)
    if out:
        out.write_text(json.dumps(report, indent=2) + "\n")
    if markdown:
        markdown.write_text(table)
    if plot:
        plot_tpf_vs_quality(report, json.loads(quality.read_text()), plot)
    print(json.dumps(report, indent=2) if as_json else table)


@bench_app.command("rad")
def rad_command(
    context_tokens: int = typer.Option(2900, help="Prompt tokens (a CXR study has ~2,900 vision tokens)."),
    response_tokens: int = typer.Option(150, help="Report tokens."),
    block_length: int = typer.Option(8),
    repeats: int = typer.Option(3),
    warmup: int = typer.Option(1),
    seed: int = typer.Option(0),
    threads: Optional[int] = typer.Option(None, help="torch CPU threads."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of the table."),
    out: Optional[Path] = typer.Option(None, help="Write the JSON report here."),
) -> None:
    """RAD vs full-sequence duplication: tokens, FLOPs by formula and measured training-step time."""
    import torch

    from echo_cxr.bench.rad import RadBenchConfig, rad_markdown, run_rad_bench

    bench = RadBenchConfig(context_tokens=context_tokens, response_tokens=response_tokens,
                           block_length=block_length, repeats=repeats, warmup=warmup, seed=seed)
    if threads:
        torch.set_num_threads(threads)
    report = run_rad_bench(bench)
    if out:
        out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2) if as_json else rad_markdown(report))


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")
