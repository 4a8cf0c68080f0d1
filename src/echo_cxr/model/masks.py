"""Attention masks as pure functions (METHOD.md section 2).

Masks are boolean, ``True`` = may attend, shape ``(B, 1, q, k)``: the form transformers' SDPA path
takes as-is (a float 0/1 mask would be *added* to the scores). Keys are indexed by their canvas
index ``0..k-1`` (the KV cache always holds a contiguous prefix of the canvas); queries by the
canvas indices of the tokens in the current forward.
"""

from __future__ import annotations

from functools import lru_cache

import torch

from echo_cxr.model.remote.modeling_echo import release_mask_to_bool

__all__ = ["append_mask", "block_causal_mask", "block_index", "causal_mask", "release_mask_to_bool"]


def block_index(canvas_index: torch.Tensor, block_length: int) -> torch.Tensor:
    """Block of each canvas position: blocks of ``block_length`` counted from position 0."""
    return torch.div(canvas_index, block_length, rounding_mode="floor")


def block_causal_mask(query_index: torch.Tensor, key_valid: torch.Tensor, block_length: int) -> torch.Tensor:
    """Block-causal attention: a token sees every earlier block and all of its own block.

    query_index: (q,) canvas indices of the queries; key_valid: (B, k) False for padding keys.
    Returns (B, 1, q, k) bool. A padding query sees only itself, so that no row is fully masked
    (its output is never read). ``block_length == 1`` gives the plain causal mask.
    """
    num_keys = key_valid.shape[1]
    key_index = torch.arange(num_keys, device=key_valid.device)
    query_index = query_index.to(key_valid.device)
    visible = block_index(key_index, block_length)[None, :] <= block_index(query_index, block_length)[:, None]
    allowed = visible[None] & key_valid[:, None, :]  # (B, q, k)
    query_is_padding = ~key_valid[:, query_index]  # (B, q)
    own_slot = key_index[None, :] == query_index[:, None]  # (q, k)
    allowed = allowed | (query_is_padding[:, :, None] & own_slot[None])
    return allowed[:, None]


def causal_mask(query_index: torch.Tensor, key_valid: torch.Tensor) -> torch.Tensor:
    """Plain causal mask (the AR model): block-causal with blocks of one token."""
    return block_causal_mask(query_index, key_valid, 1)


@lru_cache(maxsize=32)
def _window_pattern(width: int, block_length: int, device: torch.device) -> torch.Tensor:
    """(width, width) block-causal pattern among ``width`` new tokens that start on a block boundary."""
    index = torch.arange(width, device=device)
    return block_causal_mask(index, torch.ones(1, width, dtype=torch.bool, device=device), block_length)[0, 0]


def append_mask(key_valid: torch.Tensor, width: int, block_length: int) -> torch.Tensor:
    """The decoders' per-forward mask, built in two tensor ops: ``width`` new (valid) tokens after a cache.

    key_valid: (B, past) validity of the cached keys, ``past`` a multiple of ``block_length`` (the
    caches hold whole blocks). Every new token sees every valid cached key plus the block-causal
    pattern among the new tokens. Returns (B, 1, width, past + width) bool, equal to
    ``block_causal_mask(arange(past, past + width), cat(key_valid, ones), block_length)``
    (tests check it) without its per-call index arithmetic.
    """
    batch, past = key_valid.shape
    if past % block_length:
        raise ValueError(f"cached length {past} is not a multiple of block length {block_length}")
    pattern = _window_pattern(width, block_length, key_valid.device)
    cached = key_valid[:, None, None, :].expand(batch, 1, width, past)
    return torch.cat([cached, pattern.expand(batch, 1, width, width)], dim=-1)
