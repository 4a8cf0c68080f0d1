"""Training objectives, chosen by name (STYLE rule 3): how a sample is laid out and how its loss
is computed from the selected logits (METHOD.md sections 4 and 5).

- ``ar``: next-token cross-entropy on response tokens (stage 1, ECHO-AR).
- ``rad``: response-asymmetric diffusion (stage 2, ECHO-Base).
- ``full_dup``: SDAR-style whole-sequence duplication, same loss as ``rad`` (comparison only).
- ``dcd``: direct conditional distillation (stage 3, ECHO): step-weighted forward KL to the
  teacher's stitched distributions on fully masked blocks, plus EOS cross-entropy.
- ``dparallel``: CE on teacher pseudo-labels from the fully masked block + entropy minimisation.
- ``cd4lm``: CE on pseudo-labels at a high-noise view + KL to a low-noise view of the same block.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from echo_cxr.errors import EchoError
from echo_cxr.model.bundle import PREDICTION_MASKED, PREDICTION_NEXT_TOKEN
from echo_cxr.training import losses
from echo_cxr.training.loss_options import LossOptions
from echo_cxr.training.segments import IGNORE, ar_segment, full_dup_segment, rad_segment
from echo_cxr.training.teacher import distill_segment

LOW_NOISE_KEEP = 0.5  # CD4LM: a high-noise mask stays masked in the low-noise view with this probability


@dataclass(kw_only=True)
class ObjectiveSettings(LossOptions):
    """Everything an objective needs besides the data; validated on construction."""

    block_length: int
    mask_id: int
    eos_id: int
    image_token_id: int
    freeze_vision: bool = True

    def __post_init__(self) -> None:
        if self.block_length < 1:
            raise EchoError(f"block length must be at least 1, got {self.block_length}")
        self.check_loss_options()


@dataclass(frozen=True)
class Objective:
    build: Callable  # (example, settings, generator, teacher_record | None) -> Segment
    loss: Callable  # (logits (K, V), flat slots dict, normalizers (S,), settings) -> (loss, logs)
    needs_teacher: bool = False
    prediction: str = PREDICTION_MASKED  # what the trained model predicts


def select_slots(batch) -> torch.Tensor:
    """(B, T) slots whose logits a loss needs."""
    return batch.targets != IGNORE


def _mean(per_sample: torch.Tensor) -> torch.Tensor:
    return per_sample.mean()


def ce_loss(logits, flat, normalizers, settings):
    per_sample = losses.weighted_cross_entropy(logits, flat["targets"], flat["weights"], flat["sample"], normalizers)
    loss = _mean(per_sample)
    return loss, {"ce": float(loss.detach())}


def _groups(flat) -> torch.Tensor:
    """Unique (sample, block) group id per slot."""
    key = flat["sample"] * (int(flat["block"].max()) + 1) + flat["block"]
    return torch.unique(key, return_inverse=True)[1]


def dcd_loss(logits, flat, normalizers, settings):
    kl_fn = losses.reverse_kl_topk if settings.reverse_kl else losses.forward_kl_topk
    kl = kl_fn(logits, flat["teacher_ids"], flat["teacher_probs"])
    weights = losses.step_weights(flat["commit_step"], _groups(flat)) if settings.step_weighting else torch.ones_like(kl)
    S = normalizers.shape[0]
    per_sample = losses.per_sample_sum(weights * kl, flat["sample"], S) / normalizers
    logs = {"kl": float(per_sample.mean().detach())}
    if settings.eos_ce:
        eos = flat["eos_slot"]
        target = torch.full((int(eos.sum()),), settings.eos_id, dtype=torch.long, device=logits.device)
        eos_ce = F.cross_entropy(logits[eos].float(), target, reduction="none")
        per_sample = per_sample + settings.eos_weight * losses.per_sample_sum(eos_ce, flat["sample"][eos], S)
        logs["eos_ce"] = float(eos_ce.mean().detach()) if eos_ce.numel() else 0.0
    return _mean(per_sample), logs


def dparallel_loss(logits, flat, normalizers, settings):
    S = normalizers.shape[0]
    ce = losses.weighted_cross_entropy(logits, flat["targets"], flat["weights"], flat["sample"], normalizers)
    ent = losses.entropy(logits, settings.entropy_temperature)
    ent = losses.per_sample_sum(ent, flat["sample"], S) / normalizers
    loss = _mean(ce + settings.entropy_weight * ent)
    return loss, {"ce": float(ce.mean().detach()), "entropy": float(ent.mean().detach())}


def cd4lm_loss(logits, flat, normalizers, settings):
    S = normalizers.shape[0]
    high = flat["view"] == 1
    ce = losses.weighted_cross_entropy(logits[high], flat["targets"][high], flat["weights"][high],
                                       flat["sample"][high], normalizers)
    key = flat["sample"] * (int(flat["region_index"].max()) + 1) + flat["region_index"]
    low = flat["view"] == 2
    paired_high = high & torch.isin(key, key[low])
    high_order = torch.argsort(key[paired_high])
    low_order = torch.argsort(key[low])
    kl = losses.consistency_kl(logits[paired_high][high_order], logits[low][low_order],
                               settings.consistency_temperature)
    kl = losses.per_sample_sum(kl, flat["sample"][paired_high][high_order], S) / normalizers
    loss = _mean(ce + settings.consistency_weight * kl)
    return loss, {"ce": float(ce.mean().detach()), "consistency": float(kl.mean().detach())}


def _one_step_build(example, settings, generator, record):
    return distill_segment(example, record, settings)


def _cd4lm_build(example, settings, generator, record):
    from echo_cxr.training.teacher import teacher_region

    region = teacher_region(example, record, settings.block_length)
    blocks = region.length // settings.block_length
    levels = torch.rand(blocks, generator=generator).repeat_interleave(settings.block_length)
    high = (torch.rand(region.length, generator=generator) < levels.clamp_min(settings.noise_eps)) & region.supervised
    low = high & (torch.rand(region.length, generator=generator) < LOW_NOISE_KEEP)
    return distill_segment(example, record, settings, view_masks=[high, low])


OBJECTIVES: dict[str, Objective] = {
    "ar": Objective(lambda ex, s, g, r: ar_segment(ex), ce_loss, prediction=PREDICTION_NEXT_TOKEN),
    "rad": Objective(lambda ex, s, g, r: rad_segment(ex, s, g), ce_loss),
    "full_dup": Objective(lambda ex, s, g, r: full_dup_segment(ex, s, g), ce_loss),
    "dcd": Objective(_one_step_build, dcd_loss, needs_teacher=True),
    "dparallel": Objective(_one_step_build, dparallel_loss, needs_teacher=True),
    "cd4lm": Objective(_cd4lm_build, cd4lm_loss, needs_teacher=True),
}


def get_objective(name: str) -> Objective:
    if name not in OBJECTIVES:
        raise EchoError(f"unknown objective {name!r}; choose one of {', '.join(OBJECTIVES)}")
    return OBJECTIVES[name]


def compute_loss(objective: Objective, model, batch, settings: ObjectiveSettings, logits_fn=None):
    """One forward over a packed batch; returns (mean per-sample loss, logs).

    ``logits_fn(batch, select)`` runs the forward (the trainer passes its DDP-wrapped module);
    by default the plain ``training_logits`` on ``model``.
    """
    from echo_cxr.training.forward import training_logits

    select = select_slots(batch)
    if logits_fn is None:
        logits = training_logits(model, batch, select, settings.freeze_vision)
    else:
        logits = logits_fn(batch, select)
    flat = {"targets": batch.targets[select], "weights": batch.weights[select], "sample": batch.sample[select]}
    flat.update({name: value[select] for name, value in batch.fields.items()})
    return objective.loss(logits, flat, batch.normalizers.to(logits.device), settings)
