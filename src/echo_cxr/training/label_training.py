"""One loop for every image -> label classifier trained here: the stage-0 tower with its probe head
(``vision_pretrain.py``) and the supervised CNN baseline (``diagnostics/cnn_baseline.py``).

A ``LabelModel`` maps a batch of studies' grey views (``vision_data.ViewSet``) to per-study logits
over ``label_targets.target_names()``. The loop draws batches of studies (order a pure function of
the seed and the epoch), minimises binary cross-entropy with positive weights that balance each
target's prevalence (capped), follows a warm-up + cosine schedule, validates with the Phantom
clinical scores (``debiased`` decisions, see ``prior_shift``), and saves a resumable state (model, optimiser, schedule, step) every
``save_every`` steps: a killed run resumed from its state continues the same batches.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch
from torch import nn

from echo_cxr.training.label_targets import decode_targets, encode_labels, target_names
from echo_cxr.training.vision_data import ViewSet

STATE_FILE = "label_state.pt"
EVAL_BATCH = 64
DECISION_THRESHOLD = 0.5


@dataclass(frozen=True)
class LabelRun:
    """Schedule and loss settings of a label-classifier run."""

    steps: int
    batch_size: int
    learning_rate: float
    weight_decay: float
    warmup_ratio: float
    max_grad_norm: float
    positive_weight_cap: float
    eval_every: int
    save_every: int
    log_every: int
    seed: int
    # "bf16": the forward under CPU autocast to bfloat16 (weights, optimiser and loss stay float32)
    mixed_precision: str = "no"
    # loss weight per target (target_names() order); None: every target 1
    target_weights: tuple[float, ...] | None = None


LabelModel = Callable[[list[list[torch.Tensor]]], torch.Tensor]  # studies' views -> (B, targets) logits


def balanced_weights(targets: torch.Tensor, cap: float) -> torch.Tensor:
    """Per-target weight of positives, negatives/positives capped to [1, cap]: rare findings count as
    much as their absence, otherwise every score sinks below the threshold."""
    positives = targets.sum(0)
    return ((len(targets) - positives) / positives.clamp_min(1)).clamp(1.0, cap)


def prior_shift(positive_weight: torch.Tensor) -> torch.Tensor:
    """Logit offset that undoes the positive weighting at decision time.

    Binary cross-entropy with positive weight w is minimised by logit = log(w p / (1 - p)) for a
    true probability p, so thresholding sigmoid(logit) at 0.5 would call a finding present from
    p > 1 / (1 + w) on (recall bought with many false positives: precision 0.04 on rib fracture
    at w = 23, measured). Subtracting log(w) gives back the unweighted posterior's logit.
    """
    return positive_weight.log()


@lru_cache(maxsize=1)  # every step of an epoch slices the same order: draw it once per epoch
def study_order(n: int, seed: int, epoch: int) -> tuple[int, ...]:
    """The shuffled study order of one epoch (a pure function: resume replays it)."""
    return tuple(torch.randperm(n, generator=torch.Generator().manual_seed(seed * 100_003 + epoch)).tolist())


def batch_indices(step: int, n: int, batch_size: int, seed: int) -> list[int]:
    """Study indices of training step ``step`` (0-based); a partial last batch of an epoch is skipped."""
    per_epoch = max(1, n // batch_size)
    epoch, position = divmod(step, per_epoch)
    return list(study_order(n, seed, epoch)[position * batch_size:(position + 1) * batch_size])


@torch.no_grad()
def predict_labels(model: LabelModel, modules: list[nn.Module], views: ViewSet, shift: torch.Tensor
                   ) -> list[list[dict]]:
    """Predicted label lists of every study: sigmoid(logit - shift) >= 0.5, most likely attributes."""
    names = target_names()
    for module in modules:
        module.eval()
    predicted = []
    for start in range(0, len(views), EVAL_BATCH):
        logits = model(views.views[start:start + EVAL_BATCH])
        predicted += [decode_targets(torch.sigmoid(row - shift), names, DECISION_THRESHOLD) for row in logits]
    for module in modules:
        module.train()
    return predicted


def validation_row(model: LabelModel, modules: list[nn.Module], val: ViewSet, shift: torch.Tensor) -> dict:
    from echo_cxr.phantom import clinical_scores

    scores = clinical_scores(predict_labels(model, modules, val, shift), val.labels)
    return {"val_micro_f1": scores["micro_f1"], "val_macro_f1": scores["macro_f1"],
            "val_attribute_accuracy": scores["attribute_accuracy"],
            "val_recall": {k: round(v["recall"], 4) for k, v in scores["per_finding"].items()},
            "val_precision": {k: round(v["precision"], 4) for k, v in scores["per_finding"].items()}}


def _save_state(out: Path, step: int, modules, optimizer, scheduler) -> None:
    partial = out / (STATE_FILE + ".partial")
    torch.save({"step": step, "modules": [m.state_dict() for m in modules], "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict()}, partial)
    os.replace(partial, out / STATE_FILE)


def _drop_rows_after(path: Path, step: int) -> None:
    """Forget rows logged after the saved state (they are logged again by the resumed run)."""
    if path.is_file():
        kept = [line for line in path.read_text().splitlines() if line and json.loads(line)["step"] <= step]
        path.write_text("".join(line + "\n" for line in kept))


def target_weights_of(finding_weights: dict[str, float], names: list[str]) -> tuple[float, ...] | None:
    """Per-target weights from per-finding ones: ``finding`` and ``finding:attr=value`` share its weight."""
    if not finding_weights:
        return None
    return tuple(float(finding_weights.get(name.split(":", 1)[0], 1.0)) for name in names)


def label_loss(logits: torch.Tensor, targets: torch.Tensor, positive_weight: torch.Tensor,
               target_weights: tuple[float, ...] | None = None) -> torch.Tensor:
    """Mean binary cross-entropy with positive weights; ``target_weights`` scale each target's column."""
    if target_weights is None:
        return nn.functional.binary_cross_entropy_with_logits(logits, targets, pos_weight=positive_weight)
    per = nn.functional.binary_cross_entropy_with_logits(logits, targets, pos_weight=positive_weight, reduction="none")
    return (per * torch.tensor(target_weights, dtype=per.dtype)).mean()


def _autocast(mixed_precision: str):
    """CPU bfloat16 autocast for ``"bf16"`` (this loop runs on the CPU), else nothing."""
    import contextlib

    if mixed_precision == "no":
        return contextlib.nullcontext()
    if mixed_precision != "bf16":
        raise ValueError(f"label training supports mixed precision 'no' or 'bf16', not {mixed_precision!r}")
    return torch.autocast("cpu", dtype=torch.bfloat16)


def train_labels(model: LabelModel, modules: list[nn.Module], train: ViewSet, val: ViewSet | None,
                 run: LabelRun, out: Path, resume: bool = False, progress: Callable[[dict], None] | None = None
                 ) -> torch.Tensor:
    """Train ``modules`` (whose parameters ``model`` uses) on ``train``; returns the positive weights
    (their ``prior_shift`` decodes the trained model). Rows go to ``out/metrics.jsonl``; ``resume``
    continues from ``out/label_state.pt``."""
    from transformers import get_cosine_schedule_with_warmup

    names = target_names()
    targets = torch.stack([encode_labels(labels, names) for labels in train.labels])
    positive_weight = balanced_weights(targets, run.positive_weight_cap)
    params = [p for module in modules for p in module.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=run.learning_rate, weight_decay=run.weight_decay)
    scheduler = get_cosine_schedule_with_warmup(optimizer, math.ceil(run.warmup_ratio * run.steps), run.steps)
    step = 0
    if resume and (out / STATE_FILE).is_file():
        state = torch.load(out / STATE_FILE, weights_only=False)
        for module, saved in zip(modules, state["modules"]):
            module.load_state_dict(saved)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step = state["step"]
        _drop_rows_after(out / "metrics.jsonl", step)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    while step < run.steps:
        index = batch_indices(step, len(train), run.batch_size, run.seed)
        with _autocast(run.mixed_precision):
            logits = model([train.views[i] for i in index])
        loss = label_loss(logits.float(), targets[index], positive_weight, run.target_weights)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, run.max_grad_norm)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        step += 1
        row = {"step": step, "loss": float(loss.detach()), "lr": scheduler.get_last_lr()[0],
               "seconds": round(time.perf_counter() - started, 1)}
        if val is not None and run.eval_every and (step % run.eval_every == 0 or step == run.steps):
            row.update(validation_row(model, modules, val, prior_shift(positive_weight)))
        if step % run.save_every == 0 or step == run.steps:
            _save_state(out, step, modules, optimizer, scheduler)
        if step % run.log_every == 0 or "val_micro_f1" in row:
            with open(out / "metrics.jsonl", "a") as log:
                log.write(json.dumps(row) + "\n")
            if progress:
                progress(row)
    return positive_weight
