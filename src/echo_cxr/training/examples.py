"""Tokenized training examples and their block-aligned response region (METHOD.md section 4).

The response region starts at the last block boundary inside the prompt, so that it holds the
prompt's tail and then the response - exactly the canvas of the decoder's blocks - and is padded
with EOS to whole blocks. Positions use the stock M-RoPE rule (prompt positions; response position
p -> p + delta on all axes).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from echo_cxr.errors import EchoError
from echo_cxr.model.inputs import EncodedPrompt, response_positions


@dataclass
class Example:
    """One training study: encoded prompt (with pixels), its positions, and the target response."""

    sample_id: str
    prompt: EncodedPrompt
    prompt_positions: torch.Tensor  # (3, P)
    delta: int
    response_ids: torch.Tensor  # (R,) report tokens followed by EOS

    @property
    def prompt_length(self) -> int:
        return self.prompt.length


@dataclass
class Region:
    """The block-aligned response region of an example."""

    context: int  # A: block-aligned context length (prompt[:A])
    ids: torch.Tensor  # (N,) prompt tail, response, EOS padding
    positions: torch.Tensor  # (3, N)
    supervised: torch.Tensor  # (N,) bool: response and EOS-padding slots (not the prompt tail)

    @property
    def length(self) -> int:
        return int(self.ids.shape[0])


def response_region(example: Example, block_length: int, pad_id: int) -> Region:
    """Prompt tail + response padded with ``pad_id`` (EOS) to a whole number of blocks."""
    P, L = example.prompt_length, block_length
    A = (P // L) * L
    tail = example.prompt.input_ids[A:]
    body = torch.cat([tail, example.response_ids])
    N = -(-body.shape[0] // L) * L
    ids = torch.cat([body, torch.full((N - body.shape[0],), pad_id, dtype=body.dtype)])
    positions = torch.cat(
        [example.prompt_positions[:, A:], response_positions(P, N - tail.shape[0], example.delta)], dim=1
    )
    supervised = torch.arange(N) >= tail.shape[0]
    return Region(A, ids, positions, supervised)


def check_tail_is_text(example: Example, region: Region, image_token_id: int) -> None:
    """Image placeholders must lie in the context, never in a duplicated response region."""
    if bool((region.ids[~region.supervised] == image_token_id).any()):
        raise EchoError(f"sample {example.sample_id}: image tokens in the prompt's last block are not supported")


def draw_noise_levels(blocks: int, per_block: bool, eps: float, generator: torch.Generator) -> torch.Tensor:
    """t ~ U(eps, 1): one per sample (repeated per block) or one per block. Returns (blocks,)."""
    draws = torch.rand(blocks if per_block else 1, generator=generator)
    levels = eps + (1 - eps) * draws
    return levels if per_block else levels.expand(blocks).clone()
