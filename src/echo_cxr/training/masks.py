"""Training attention masks as pure functions (METHOD.md section 4). ``True`` = may attend.

Layouts (per sample, before packing), with A = block-aligned context length, N = response region
length (a whole number of blocks of length L; it starts with the prompt's tail, exactly like the
first decoding block at inference):

- RAD (response-asymmetric duplication): ``[context A | clean N | noisy N]``
- full duplication (SDAR-style, for comparison): ``[clean A+N | noisy A+N]``
- AR: ``[context | response]``, causal.

The context is block-causal, like the decoder's prefill (the release prefills with a block mask);
``context="causal"`` gives the paper's wording (causal context) for experiments.
"""

from __future__ import annotations

import torch

CONTEXT_MODES = ("block", "causal")


def _blocks(length: int, block_length: int) -> torch.Tensor:
    return torch.arange(length) // block_length


def context_mask(length: int, block_length: int, mode: str = "block") -> torch.Tensor:
    """(A, A): context tokens among themselves, block-causal or causal."""
    if mode == "causal":
        return torch.ones(length, length, dtype=torch.bool).tril()
    blocks = _blocks(length, block_length)
    return blocks[None, :] <= blocks[:, None]


def rad_mask(context: int, region: int, block_length: int, mode: str = "block", noisy_copies: int = 1) -> torch.Tensor:
    """(A+(1+k)N)^2 RAD mask from its named parts, k = ``noisy_copies`` (CD4LM uses two views).

    clean block b sees the context and clean blocks <= b; noisy block b sees the context, clean
    blocks < b and itself (both directions); nothing else attends to noisy tokens (noisy copies
    do not see each other).
    """
    A, N = context, region
    blocks = _blocks(N, block_length)
    clean_to_clean = blocks[None, :] <= blocks[:, None]
    noisy_to_clean = blocks[None, :] < blocks[:, None]
    noisy_to_noisy = blocks[None, :] == blocks[:, None]
    total = A + (1 + noisy_copies) * N
    mask = torch.zeros(total, total, dtype=torch.bool)
    mask[:A, :A] = context_mask(A, block_length, mode)
    mask[A:, :A] = True  # every response copy sees the whole context
    mask[A : A + N, A : A + N] = clean_to_clean
    for copy in range(noisy_copies):
        start = A + (1 + copy) * N
        mask[start : start + N, A : A + N] = noisy_to_clean
        mask[start : start + N, start : start + N] = noisy_to_noisy
    return mask


def full_duplication_mask(length: int, block_length: int) -> torch.Tensor:
    """(2T, 2T) SDAR-style mask: [clean T | noisy T], whole sequence duplicated."""
    blocks = _blocks(length, block_length)
    mask = torch.zeros(2 * length, 2 * length, dtype=torch.bool)
    mask[:length, :length] = blocks[None, :] <= blocks[:, None]
    mask[length:, :length] = blocks[None, :] < blocks[:, None]
    mask[length:, length:] = blocks[None, :] == blocks[:, None]
    return mask


def causal_training_mask(length: int) -> torch.Tensor:
    """(T, T) causal mask of AR fine-tuning."""
    return torch.ones(length, length, dtype=torch.bool).tril()


def pack_masks(masks: list[torch.Tensor], total: int) -> torch.Tensor:
    """Block-diagonal (total, total) mask: samples isolated; padding slots see only themselves."""
    packed = torch.zeros(total, total, dtype=torch.bool)
    start = 0
    for mask in masks:
        end = start + mask.shape[0]
        packed[start:end, start:end] = mask
        start = end
    padding = torch.arange(start, total)
    packed[padding, padding] = True
    return packed
