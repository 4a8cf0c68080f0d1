"""The language model's attention on a CPU: SDPA over the grouped K/V heads as they are.

For a masked call with more than one query, transformers' ``sdpa`` repeats every K/V head up to the
query heads first (7x for Qwen2-0.5B): a copy of the whole cache in every layer of every forward,
which the block decoder's 8-16-query forwards pay. torch's ``enable_gqa`` reads the grouped heads
directly. ``GROUPED_SDPA`` is the text model's attention whenever ``sdpa`` is asked for
(model/loading.py); it takes over only at inference on a CPU with a boolean mask and several
queries, and hands every other call (one query: transformers already packs the heads; training,
GPUs, float masks) to transformers' own ``sdpa``. Tested against it: tests/model/test_attention.py.
"""

from __future__ import annotations

import torch

GROUPED_SDPA = "echo_grouped_sdpa"


def grouped_sdpa_attention(module, query, key, value, attention_mask, dropout: float = 0.0,
                           scaling: float | None = None, is_causal: bool | None = None, **kwargs):
    """``(B, heads, q, d)`` queries over ``(B, kv_heads, k, d)`` keys/values; returns ``(B, q, heads, d)``."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    grouped = getattr(module, "num_key_value_groups", 1) > 1
    ours = (grouped and not module.training and query.device.type == "cpu" and query.shape[2] > 1
            and attention_mask is not None and attention_mask.dtype == torch.bool
            and kwargs.get("softcap") is None and not kwargs.get("output_attentions", False))
    if not ours:
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling,
                                      is_causal=is_causal, **kwargs)
    out = torch.nn.functional.scaled_dot_product_attention(
        query, key, value, attn_mask=attention_mask, scale=scaling, enable_gqa=True)
    return out.transpose(1, 2).contiguous(), None


def register() -> str:
    """Make ``GROUPED_SDPA`` known to transformers (idempotent); returns its name."""
    from transformers import AttentionInterface

    AttentionInterface.register(GROUPED_SDPA, grouped_sdpa_attention)
    return GROUPED_SDPA
