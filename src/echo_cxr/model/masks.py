"""Attention masks as pure functions (METHOD.md section 2).

Masks are boolean, ``True`` = may attend, shape ``(B, 1, q, k)``: the form transformers' SDPA path
takes as-is (a float 0/1 mask would be *added* to the scores). Keys are indexed by their canvas
index ``0..k-1`` (the KV cache always holds a contiguous prefix of the canvas); queries by the
canvas indices of the tokens in the current forward.
"""

from __future__ import annotations

import torch

from echo_cxr.model.remote.modeling_echo import release_mask_to_bool

__all__ = ["block_causal_mask", "block_index", "causal_mask", "release_mask_to_bool"]


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
