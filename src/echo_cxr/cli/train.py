"""``echo-cxr train OBJECTIVE --config FILE.yaml [key=value ...]``: run one training stage."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def train_command(
    objective: str = typer.Argument(..., help="vision | ar | rad | dcd | dparallel | cd4lm | full_dup"),
    overrides: Optional[list[str]] = typer.Argument(None, help="key=value settings (dotted for sections)."),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="YAML config (see configs/)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in output_dir."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an earlier run in output_dir."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Train one stage; the model is written to <output_dir>/model in the echo-cxr checkpoint layout."""
    from echo_cxr.training.config import VISION_OBJECTIVE, load_config

    settings = load_config(config, overrides or [], objective)
    if settings.objective == VISION_OBJECTIVE:
        from echo_cxr.training.vision_pretrain import VisionPretrainer

        target = VisionPretrainer(settings, resume=resume, overwrite=overwrite).train_model()
    else:
        from echo_cxr.training.trainer import Trainer

        target = Trainer(settings, resume=resume, overwrite=overwrite, progress=not quiet).train()
    print(target)


def register(app: typer.Typer) -> None:
    app.command("train")(train_command)
