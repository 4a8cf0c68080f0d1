"""Per-sample training sequences ("segments") for every objective (METHOD.md sections 4-5).

A segment holds the token ids (mask ids in noisy copies), 3D positions, the attention mask, the
targets and per-position loss weights, plus objective-specific per-position fields (teacher
distributions, commit steps, views). Packing (``packing.py``) concatenates segments into rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from echo_cxr.training.examples import Example, Region, check_tail_is_text, draw_noise_levels, response_region
from echo_cxr.training.masks import causal_training_mask, full_duplication_mask, rad_mask

IGNORE = -100


@dataclass
class Segment:
    """One sample laid out for one objective; all per-position tensors have length T."""

    example: Example
    input_ids: torch.Tensor  # (T,)
    positions: torch.Tensor  # (3, T)
    mask: torch.Tensor  # (T, T) bool
    targets: torch.Tensor  # (T,) token id or IGNORE
    weights: torch.Tensor  # (T,) loss weight (0 where no loss)
    normalizer: float  # divisor of this sample's loss (its number of response tokens)
    image_copies: int = 1  # times the example's images appear (full duplication: 2)
    fields: dict[str, torch.Tensor] = field(default_factory=dict)  # (T, ...) extras

    @property
    def length(self) -> int:
        return int(self.input_ids.shape[0])


def _empty(length: int) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.full((length,), IGNORE, dtype=torch.long), torch.zeros(length)


def ar_segment(example: Example) -> Segment:
    """Next-token SFT: [prompt | response], causal; logits at i predict token i + 1."""
    P, R = example.prompt_length, int(example.response_ids.shape[0])
    ids = torch.cat([example.prompt.input_ids, example.response_ids])
    positions = torch.cat(
        [example.prompt_positions, (torch.arange(P, P + R) + example.delta)[None].expand(3, -1)], dim=1
    )
    targets, weights = _empty(P + R)
    targets[P - 1 : P + R - 1] = example.response_ids
    weights[P - 1 : P + R - 1] = 1.0
    return Segment(example, ids, positions, causal_training_mask(P + R), targets, weights, float(R))


def _noise(region: Region, block_length: int, per_block: bool, eps: float, generator):
    """(masked (N,) bool, t per position (N,)) for the supervised slots of a region."""
    blocks = region.length // block_length
    levels = draw_noise_levels(blocks, per_block, eps, generator).repeat_interleave(block_length)
    masked = (torch.rand(region.length, generator=generator) < levels) & region.supervised
    return masked, levels


def _noised_region(example: Example, settings, generator: torch.Generator):
    """(region, masked, levels, noisy ids) of a diffusion objective."""
    region = response_region(example, settings.block_length, settings.eos_id)
    check_tail_is_text(example, region, settings.image_token_id)
    masked, levels = _noise(region, settings.block_length, settings.per_block_noise, settings.noise_eps, generator)
    return region, masked, levels, torch.where(masked, settings.mask_id, region.ids)


def rad_segment(example: Example, settings, generator: torch.Generator) -> Segment:
    """RAD: [context | clean region | noisy region]; CE at masked noisy slots weighted by 1/t."""
    L = settings.block_length
    region, masked, levels, noisy = _noised_region(example, settings, generator)
    A, N = region.context, region.length
    ids = torch.cat([example.prompt.input_ids[:A], region.ids, noisy])
    positions = torch.cat([example.prompt_positions[:, :A], region.positions, region.positions], dim=1)
    targets, weights = _empty(A + 2 * N)
    targets[A + N :] = torch.where(masked, region.ids, IGNORE)
    weights[A + N :] = torch.where(masked, 1.0 / levels, 0.0)
    mask = rad_mask(A, N, L, settings.context_attention)
    return Segment(example, ids, positions, mask, targets, weights, float(region.supervised.sum()))


def full_dup_segment(example: Example, settings, generator: torch.Generator) -> Segment:
    """SDAR-style: [clean context+region | noisy context+region]; same loss as RAD."""
    L = settings.block_length
    region, masked, levels, noisy = _noised_region(example, settings, generator)
    A, N = region.context, region.length
    context = example.prompt.input_ids[:A]
    ids = torch.cat([context, region.ids, context, noisy])
    copy_positions = torch.cat([example.prompt_positions[:, :A], region.positions], dim=1)
    positions = torch.cat([copy_positions, copy_positions], dim=1)
    targets, weights = _empty(2 * (A + N))
    targets[2 * A + N :] = torch.where(masked, region.ids, IGNORE)
    weights[2 * A + N :] = torch.where(masked, 1.0 / levels, 0.0)
    mask = full_duplication_mask(A + N, L)
    return Segment(example, ids, positions, mask, targets, weights, float(region.supervised.sum()), image_copies=2)
