"""``echo-cxr infer --data A.json [B.json ...] --model M --out results.jsonl``: batch inference."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer

from echo_cxr.cli import options


def _progress_printer(show: bool):
    """(on_batch callback, close) drawing a rich progress bar with ETA and tokens/s on stderr."""
    if not show:
        return None, lambda: None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    progress = Progress(TextColumn("infer"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        TextColumn("eta"), TimeRemainingColumn(), TextColumn("{task.fields[rate]}"),
                        console=Console(stderr=True))
    task = [None]

    def on_batch(event) -> None:
        rate = f"{event.new_tokens / event.seconds:.1f} tok/s" if event.seconds > 0 else ""
        if event.failures:
            rate += f", {event.failures} failed"
        if task[0] is None:
            progress.start()
            task[0] = progress.add_task("infer", total=event.total, rate=rate)
        progress.update(task[0], completed=event.done, rate=rate)

    def close() -> None:
        if task[0] is not None:
            progress.stop()

    return on_batch, close


def infer_command(
    data: list[Path] = typer.Option(..., "--data", help="Test-set JSON files in the release schema."),
    more_data: Optional[list[Path]] = typer.Argument(None, help="More data files (--data A.json B.json ...)."),
    out: Path = typer.Option(..., help="Results file (JSON lines, one record per sample)."),
    model: options.Model = None,
    batch_size: int = typer.Option(8, help="Samples decoded together."),
    resume: bool = typer.Option(False, "--resume", help="Continue a run: skip samples already in --out."),
    samples: int = typer.Option(1, help="Draws per input (seeds seed, seed+1, ...; needs --temperature > 0)."),
    block_length: options.BlockLength = None,
    steps: options.Steps = None,
    strategy: options.Strategy = None,
    threshold: options.Threshold = None,
    entropy_bound: options.EntropyBound = None,
    temperature: options.Temperature = 0.0,
    top_k: options.TopK = 0,
    top_p: options.TopP = 1.0,
    seed: options.Seed = 0,
    max_new_tokens: options.MaxNewTokens = 512,
    no_fused: options.NoFused = False,
    decoder: options.Decoder = "blockwise",
    ignore_eos: options.IgnoreEos = False,
    dtype: options.Dtype = "float32",
    device: str = typer.Option("cpu", help="cpu | cuda | cuda:N | auto (under accelerate: one GPU per process)."),
    attention: options.Attention = "sdpa",
    max_pixels: options.MaxPixels = None,
    quantize: options.Quantize = "auto",
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar on stderr."),
) -> None:
    """Decode every sample of the data files into a JSON-lines results file (resumable)."""
    from echo_cxr.evaluation.infer import InferConfig, run_inference
    from echo_cxr.pipeline import default_model

    main_process = os.environ.get("RANK", "0") == "0"
    if model is None:
        model, notice = default_model()
        if main_process:
            print(notice, file=sys.stderr)
    decoding = options.decoding_settings(block_length, steps, strategy, threshold, entropy_bound, temperature,
                                         top_k, top_p, max_new_tokens, no_fused, ignore_eos)
    config = InferConfig(
        data=tuple(str(p) for p in [*data, *(more_data or [])]), out=str(out), model=model,
        batch_size=batch_size, resume=resume, samples=samples, decoder=decoder, decoding=decoding, seed=seed,
        device=device, dtype=dtype, attention=attention, max_pixels=max_pixels, quantize=quantize,
    )
    on_batch, close = _progress_printer(progress and main_process)
    try:
        summary = run_inference(config, on_batch=on_batch)
    finally:
        close()
    if not main_process:
        return  # the main process reports for all
    print(f"run {summary.run_id}: {summary.written} records written to {summary.out} "
          f"({summary.already_done} already done, {summary.total} in the run)", file=sys.stderr)
    if summary.failures:
        print(f"{len(summary.failures)} samples failed (recorded with an 'error' field):", file=sys.stderr)
        for failure in summary.failures:
            print(f"  {failure['source']} {failure['sample_id']} (draw {failure['sample_index']}): "
                  f"{failure['error']}", file=sys.stderr)


def register(app: typer.Typer) -> None:
    app.command("infer")(infer_command)
