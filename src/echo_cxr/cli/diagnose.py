"""``echo-cxr diagnose probe | cnn-baseline | image-use``: what the Phantom models see (issue 13).

Thin layer over ``echo_cxr.diagnostics``; results go to files and a one-line summary to stdout.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(help="Diagnostics: the tower's probe, the supervised CNN ceiling, image use.",
                  no_args_is_help=True)


@app.command("probe")
def probe(run: Path = typer.Option(..., "--run", help="A finished `echo-cxr train vision` output folder."),
          data: list[str] = typer.Option(..., "--data", help="Release-schema JSON file(s) with Phantom labels."),
          out: Path = typer.Option(..., "--out", help="Results file (JSON lines) for `echo-cxr score`.")) -> None:
    """Reports composed from the stage-0 probe head's labels, as an infer results file."""
    from echo_cxr.diagnostics.probe import write_probe_results

    count = write_probe_results(run, data, out)
    print(f"{count} records -> {out}")


@app.command("cnn-baseline")
def cnn_baseline(train: list[str] = typer.Option(..., "--train", help="Training data file(s) with Phantom labels."),
                 val: list[str] = typer.Option(..., "--val", help="Validation data file(s)."),
                 out: Path = typer.Option(..., "--out", help="Output folder (metrics, state, view cache)."),
                 side: int = typer.Option(224, "--side", help="Views resized to at most side x side pixels."),
                 steps: int = typer.Option(1650, "--steps"),
                 batch_size: int = typer.Option(32, "--batch-size"),
                 learning_rate: float = typer.Option(2e-3, "--lr"),
                 eval_every: int = typer.Option(250, "--eval-every"),
                 seed: int = typer.Option(0, "--seed"),
                 resume: bool = typer.Option(False, "--resume", help="Continue from out/state.")) -> None:
    """Train the supervised CNN ceiling on the tower's labels and views; print its last validation."""
    from echo_cxr.diagnostics.cnn_baseline import CnnBaselineConfig, train_cnn_baseline

    config = CnnBaselineConfig(list(train), list(val), out, side, steps, batch_size, learning_rate,
                               eval_every=eval_every, seed=seed, resume=resume)
    row = train_cnn_baseline(config, progress=lambda r: print(json.dumps(
        {k: r[k] for k in ("step", "loss", "seconds", "val_micro_f1") if k in r}), flush=True))
    (out / "summary.json").write_text(json.dumps(row, indent=1) + "\n")
    print(f"val micro-F1 {row['val_micro_f1']:.4f} after {row['step']} steps ({row['seconds']} s) -> {out / 'summary.json'}")


@app.command("image-use")
def image_use(model: str = typer.Option(..., "--model", help="Model folder or builtin:NAME."),
              data: list[str] = typer.Option(..., "--data", help="Data file(s) with Phantom labels."),
              out: Path = typer.Option(..., "--out", help="JSON summary file."),
              n: int = typer.Option(100, "--n", help="Samples decoded (x3 conditions)."),
              batch_size: int = typer.Option(16, "--batch-size"),
              max_new_tokens: int = typer.Option(256, "--max-new-tokens"),
              decoder: str = typer.Option(None, "--decoder", help="ar | blockwise (default: the model's kind).")) -> None:
    """Own image vs a blank image vs another patient's image: do the findings follow the image?"""
    from echo_cxr.diagnostics.image_use import ImageUseConfig, image_use as run

    result = run(ImageUseConfig(model, list(data), n, batch_size, max_new_tokens, decoder))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    cells = ", ".join(f"{k}: F1 {v['micro_f1_vs_own_truth']:.3f}, changed {v['changed_vs_own']:.0%}"
                      for k, v in result["conditions"].items())
    print(f"{result['samples']} samples; {cells} -> {out}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="diagnose")
