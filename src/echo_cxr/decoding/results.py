"""What a decoder returns per request: text, ids, stats and (optionally) the trajectory."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch


@dataclass
class DecodeStats:
    """Speed bookkeeping of one request (METHOD.md section 3, speed metrics)."""

    prefill_seconds: float = 0.0
    decode_seconds: float = 0.0
    forward_passes: int = 0  # denoising forwards (AR: token forwards) in which this request took part
    kv_append_passes: int = 0  # separate forwards that only appended a finished block's K/V
    committed_tokens: int = 0  # response positions committed (whole blocks, post-EOS included)
    new_tokens: int = 0  # returned tokens (cut at EOS and at max_new_tokens)
    prompt_tail: int = 0  # prompt tokens re-run inside the first decoding block (P mod L)

    @property
    def tokens_per_forward(self) -> float:
        """TPF: committed response tokens per denoising forward (METHOD.md section 3)."""
        return self.committed_tokens / self.forward_passes if self.forward_passes else 0.0

    @property
    def block_tokens_per_forward(self) -> float:
        """Canvas positions decoded per forward, counting the prompt tail of the first block: exactly
        L for a one-step block-L model (TPF itself is a little lower because of that tail)."""
        if not self.forward_passes:
            return 0.0
        return (self.committed_tokens + self.prompt_tail) / self.forward_passes

    @property
    def tokens_per_second(self) -> float:
        return self.new_tokens / self.decode_seconds if self.decode_seconds > 0 else 0.0

    def as_dict(self) -> dict:
        return asdict(self) | {
            "tokens_per_forward": self.tokens_per_forward,
            "block_tokens_per_forward": self.block_tokens_per_forward,
            "tokens_per_second": self.tokens_per_second,
        }


@dataclass
class BlockTrace:
    """Recorded decoding of one block: what DCD's teacher phase stores (METHOD.md section 4)."""

    block_index: int
    tokens: torch.Tensor  # (L,) final ids of the block (prompt ids in prompt slots)
    generated: torch.Tensor  # (L,) bool, response positions
    commit_step: torch.Tensor  # (L,) step at which each position was committed, -1 for prompt slots
    top_ids: torch.Tensor  # (L, k) top-k token ids of the model distribution at the commit step
    top_probs: torch.Tensor  # (L, k) their probabilities (softmax of raw logits, T = 1)


@dataclass
class DecodeResult:
    """One request's output."""

    token_ids: list[int]
    text: str
    finish_reason: str  # "eos" or "length"
    stats: DecodeStats
    trajectory: list[BlockTrace] | None = None
    raw_token_ids: list[int] = field(default_factory=list)  # every committed response id


def cut_generated(ids: list[int], eos_ids: tuple[int, ...], limit: int, ignore_eos: bool):
    """Cut at the first EOS (unless ignored), then at ``limit`` tokens.

    The release also cuts at the first leftover mask; this decoder leaves none (every block is
    fully committed), and a mask id the model *predicts* is a token like any other (skipped as a
    special token when text is made).
    """
    reason = "length"
    cut = ids
    if not ignore_eos:
        for index, token in enumerate(ids):
            if token in eos_ids:
                cut, reason = ids[:index], "eos"
                break
    return cut[:limit], reason


def decode_text(tokenizer, ids: list[int]) -> str:
    """Token ids to text; ids beyond the tokenizer's vocabulary (random presets) are dropped."""
    known = [i for i in ids if i < len(tokenizer)]
    return tokenizer.decode(known, skip_special_tokens=True).strip()
