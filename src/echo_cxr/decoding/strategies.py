"""Remasking strategies: which masked positions to commit at a denoising step (METHOD.md section 3).

Each strategy is a pure function over the whole batch, vectorised (no per-row loops):
``(scores, quota, config) -> commit`` with ``commit`` a (B, L) bool subset of ``scores.masked``.
Rows without masked positions commit nothing. Looked up by name in ``STRATEGIES``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch


@dataclass
class StepScores:
    """Per-position scores of one denoising step; all (B, L)."""

    confidence: torch.Tensor  # probability of the sampled token; -inf where not masked
    masked: torch.Tensor  # bool, still a mask token
    entropy: torch.Tensor | None = None  # entropy of the sampling distribution (only if needed)


@dataclass(frozen=True)
class Strategy:
    fn: Callable[[StepScores, int, object], torch.Tensor]
    needs_entropy: bool = False


def _rank_desc(values: torch.Tensor) -> torch.Tensor:
    """Rank of each entry in its row, 0 = largest; ties broken by position (stable)."""
    order = torch.sort(values, dim=-1, descending=True, stable=True).indices
    return torch.argsort(order, dim=-1)


def top_k_masked(scores: StepScores, k: int) -> torch.Tensor:
    """The ``k`` most confident masked positions of every row (all of them where fewer are masked).

    Ties go to the leftmost position. ``k == 1`` (one token per step, the common case) is an argmax.
    Relies on ``scores.confidence`` being -inf where not masked.
    """
    if k == 1:
        best = torch.zeros_like(scores.masked).scatter_(-1, scores.confidence.argmax(-1, keepdim=True), True)
        return scores.masked & best
    return scores.masked & (_rank_desc(scores.confidence) < k)


def sequential(scores: StepScores, quota: int, config) -> torch.Tensor:
    """The ``quota`` leftmost masked positions."""
    return scores.masked & (scores.masked.cumsum(-1) <= quota)


def low_confidence_static(scores: StepScores, quota: int, config) -> torch.Tensor:
    """The ``quota`` most confident masked positions."""
    return top_k_masked(scores, quota)


def low_confidence_dynamic(scores: StepScores, quota: int, config) -> torch.Tensor:
    """Every masked position above ``threshold`` if at least ``quota`` are, else the quota most confident."""
    above = scores.confidence > config.threshold  # -inf (not masked) is never above
    if quota == 1:  # the most confident position is above whenever any is: above, else the best one
        return above | top_k_masked(scores, 1)
    enough = above.sum(-1) >= quota  # (B,)
    return torch.where(enough[:, None], above, top_k_masked(scores, quota))


def confidence_threshold(scores: StepScores, quota: int, config) -> torch.Tensor:
    """DCD teacher rule: every masked position with confidence >= threshold, else the single best."""
    above = scores.masked & (scores.confidence >= config.threshold)
    none = ~above.any(-1)
    return torch.where(none[:, None], top_k_masked(scores, 1), above)


def entropy_bounded(scores: StepScores, quota: int, config) -> torch.Tensor:
    """Lowest-entropy masked positions while their cumulative entropy stays <= bound; at least one."""
    entropy = scores.entropy.masked_fill(~scores.masked, float("inf"))
    order = torch.sort(entropy, dim=-1, stable=True).indices
    sorted_entropy = entropy.gather(-1, order)
    within = torch.cumsum(sorted_entropy.nan_to_num(posinf=0.0), -1) <= config.entropy_bound
    within &= torch.isfinite(sorted_entropy)
    count = within.sum(-1).clamp(min=1).minimum(scores.masked.sum(-1))
    rank = torch.argsort(order, dim=-1)
    return scores.masked & (rank < count[:, None])


STRATEGIES: dict[str, Strategy] = {
    "sequential": Strategy(sequential),
    "low_confidence_static": Strategy(low_confidence_static),
    "low_confidence_dynamic": Strategy(low_confidence_dynamic),
    "confidence_threshold": Strategy(confidence_threshold),
    "entropy_bounded": Strategy(entropy_bounded, needs_entropy=True),
}


def choose_commits(scores: StepScores, quota: int, config) -> torch.Tensor:
    """Apply ``config.strategy``; with one step per block every masked position is committed."""
    if config.num_steps == 1:
        return scores.masked.clone()
    return STRATEGIES[config.strategy].fn(scores, quota, config)
