"""The supervised ceiling on Phantom images: a plain CNN trained from scratch on the same labels,
the same grey views and the same loop as the stage-0 tower (``training/label_training.py``).

If this CNN reads the findings and the tower does not, the tower's recipe is at fault, not the
benchmark (issue 13). Five blocks of two 3x3 convolutions (batch norm, ReLU) and a 2x2 max pool,
widths ``WIDTHS``; global max + mean pooling; a linear layer to every label target; a study's
views are pooled by taking the maximum of their logits.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

WIDTHS = (32, 64, 96, 128, 192)
GREY_MEAN, GREY_STD = 0.5, 0.25  # rough grey-level centring of Phantom views
PATCH_SIZE, MERGE_SIZE = 14, 2  # views are resized like the processor's (sides multiples of 28)


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
        nn.MaxPool2d(2))


class GreyCNN(nn.Module):
    """(N, 1, H, W) float views -> (N, targets) logits."""

    def __init__(self, targets: int, widths: tuple[int, ...] = WIDTHS):
        super().__init__()
        channels = (1, *widths)
        self.features = nn.Sequential(*[_block(a, b) for a, b in zip(channels, channels[1:])])
        self.head = nn.Linear(2 * widths[-1], targets)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        maps = self.features(x).flatten(2)  # (N, C, h*w)
        return self.head(torch.cat([maps.amax(-1), maps.mean(-1)], dim=1))


class StudyCNN:
    """Studies' grey views -> (B, targets) logits: the CNN per view, max over a study's views."""

    def __init__(self, cnn: GreyCNN):
        self.cnn = cnn

    def __call__(self, studies: list[list[torch.Tensor]]) -> torch.Tensor:
        views = torch.stack([view for views in studies for view in views])[:, None].float()
        logits = self.cnn((views / 255.0 - GREY_MEAN) / GREY_STD)
        out, cursor = [], 0
        for views_of_study in studies:
            out.append(logits[cursor:cursor + len(views_of_study)].amax(0))
            cursor += len(views_of_study)
        return torch.stack(out)


@dataclass(frozen=True)
class CnnBaselineConfig:
    train_data: list[str]
    val_data: list[str]
    out: Path
    side: int = 224
    steps: int = 1650
    batch_size: int = 32
    learning_rate: float = 2e-3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.03
    eval_every: int = 250
    seed: int = 0
    resume: bool = False


def pixel_spec(side: int):
    """Views resized the processor's way to at most side x side pixels."""
    from echo_cxr.training.vision_data import PixelSpec

    factor = PATCH_SIZE * MERGE_SIZE
    return PixelSpec(min_pixels=factor * factor, max_pixels=side * side, patch_size=PATCH_SIZE,
                     merge_size=MERGE_SIZE, temporal_patch_size=2, mean=(GREY_MEAN,) * 3, std=(GREY_STD,) * 3)


def train_cnn_baseline(config: CnnBaselineConfig, progress=None) -> dict:
    """Train the CNN; returns the last validation row (also in ``out/state/metrics.jsonl``)."""
    import json

    from echo_cxr.phantom.dataset import default_workers
    from echo_cxr.training import run_setup
    from echo_cxr.training.label_targets import target_names
    from echo_cxr.training.label_training import LabelRun, train_labels
    from echo_cxr.training.vision_data import cached_view_set
    from echo_cxr.training.vision_pretrain import POSITIVE_WEIGHT_CAP, unique_studies

    torch.manual_seed(config.seed)
    spec, cache = pixel_spec(config.side), config.out / "view_cache"
    train = cached_view_set(unique_studies(run_setup.read_samples(config.train_data)), spec,
                            cache / f"train_{config.side}.pt", default_workers())
    val = cached_view_set(unique_studies(run_setup.read_samples(config.val_data)), spec,
                          cache / f"val_{config.side}.pt", default_workers())
    cnn = GreyCNN(len(target_names()))
    run = LabelRun(steps=config.steps, batch_size=config.batch_size, learning_rate=config.learning_rate,
                   weight_decay=config.weight_decay, warmup_ratio=config.warmup_ratio, max_grad_norm=1.0,
                   positive_weight_cap=POSITIVE_WEIGHT_CAP, eval_every=config.eval_every,
                   save_every=config.eval_every, log_every=config.eval_every, seed=config.seed)
    state = config.out / "state"
    train_labels(StudyCNN(cnn), [cnn], train, val, run, state, resume=config.resume, progress=progress)
    rows = [json.loads(line) for line in (state / "metrics.jsonl").read_text().splitlines() if line]
    return next(row for row in reversed(rows) if "val_micro_f1" in row)
