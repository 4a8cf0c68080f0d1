"""Block KV cache: append, read without appending, append only a prefix, crop (METHOD.md sec. 2-3).

The stock attention layers call ``cache.update(k, v, layer)`` and attend over what it returns. This
cache writes the new K/V into a pre-allocated buffer right after the committed prefix, returns the
committed prefix plus the new tokens, and then *commits* only the first ``commit`` of them:

- ``commit=None`` (default): append everything (prefill, AR steps);
- ``commit=0``: read the cache, append nothing (a denoising pass over a masked block);
- ``commit=n``: append the first n tokens (fused step: the finished previous block), the rest is
  scratch that the next forward overwrites.

All rows of a batch share one committed length (the decoder aligns rows on block boundaries).
"""

from __future__ import annotations

import torch
from transformers.cache_utils import Cache

GROWTH_FACTOR = 2


class BlockKVCache(Cache):
    """Pre-allocated per-layer K/V buffers ``(B, heads, capacity, head_dim)`` with a commit control."""

    def __init__(self, num_layers: int, capacity: int = 0):
        super().__init__(layers=[])
        self.num_layers = num_layers
        self.capacity = capacity
        self.keys: list[torch.Tensor | None] = [None] * num_layers
        self.values: list[torch.Tensor | None] = [None] * num_layers
        self.lengths = [0] * num_layers
        self.commit: int | None = None

    def __len__(self) -> int:
        return self.num_layers

    def _ensure(self, layer: int, key: torch.Tensor, needed: int) -> None:
        buf = self.keys[layer]
        if buf is not None and buf.shape[-2] >= needed:
            return
        size = max(needed, self.capacity, 0 if buf is None else buf.shape[-2] * GROWTH_FACTOR)
        shape = (key.shape[0], key.shape[1], size, key.shape[-1])
        new_k = key.new_empty(shape)
        new_v = key.new_empty(shape)
        if buf is not None:
            length = self.lengths[layer]
            new_k[..., :length, :] = buf[..., :length, :]
            new_v[..., :length, :] = self.values[layer][..., :length, :]
        self.keys[layer], self.values[layer] = new_k, new_v

    def update(self, key_states, value_states, layer_idx: int, *args, **kwargs):
        """Write new K/V after the committed prefix; return prefix + new; commit the first ``commit``."""
        length = self.lengths[layer_idx]
        new = key_states.shape[-2]
        self._ensure(layer_idx, key_states, length + new)
        keys, values = self.keys[layer_idx], self.values[layer_idx]
        keys[..., length : length + new, :] = key_states
        values[..., length : length + new, :] = value_states
        commit = new if self.commit is None else min(self.commit, new)
        self.lengths[layer_idx] = length + commit
        return keys[..., : length + new, :], values[..., : length + new, :]

    def get_seq_length(self, layer_idx: int = 0) -> int:
        return self.lengths[layer_idx]

    def crop(self, tokens_to_remove: int) -> None:
        """HF convention: ``crop(-n)`` drops the last n committed tokens; ``crop(n>=0)`` keeps n."""
        keep = lambda length: length + tokens_to_remove if tokens_to_remove < 0 else min(length, tokens_to_remove)
        self.lengths = [max(0, keep(length)) for length in self.lengths]

    def crop_to(self, length: int) -> None:
        """Keep the first ``length`` committed tokens (a block boundary)."""
        self.lengths = [min(current, length) for current in self.lengths]

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        """Keep only the rows ``indices`` (rows that finished leave the batch)."""
        for layer in range(self.num_layers):
            if self.keys[layer] is not None:
                self.keys[layer] = self.keys[layer].index_select(0, indices.to(self.keys[layer].device))
                self.values[layer] = self.values[layer].index_select(0, indices.to(self.values[layer].device))

    @property
    def is_compileable(self) -> bool:
        return False
