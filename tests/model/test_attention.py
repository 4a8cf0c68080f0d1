"""The grouped-head CPU attention (model/attention.py) against transformers' own SDPA: the same
outputs call by call, the same decodes, and the stock path wherever it does not take over."""

from types import SimpleNamespace

import pytest
import torch

from echo_cxr.decoding import DecodeConfig, generate
from echo_cxr.model.attention import GROUPED_SDPA, grouped_sdpa_attention

HEADS, KV_HEADS, SIZE, KEYS = 6, 2, 8, 21


def call(queries: int, mask_dtype=torch.bool, training=False):
    generator = torch.Generator().manual_seed(queries)
    q = torch.randn(1, HEADS, queries, SIZE, generator=generator)
    k, v = (torch.randn(1, KV_HEADS, KEYS, SIZE, generator=generator) for _ in range(2))
    allowed = torch.rand(1, 1, queries, KEYS, generator=generator) > 0.4
    allowed[..., 0] = True
    mask = allowed if mask_dtype == torch.bool else torch.zeros_like(allowed, dtype=mask_dtype).masked_fill(~allowed, -1e9)
    module = SimpleNamespace(num_key_value_groups=HEADS // KV_HEADS, training=training, is_causal=True)
    return module, q, k, v, mask


@pytest.mark.parametrize("queries", [1, 8, 16])
def test_equals_transformers_sdpa_call_by_call(queries):
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    module, q, k, v, mask = call(queries)
    ours, _ = grouped_sdpa_attention(module, q, k, v, mask, scaling=SIZE ** -0.5)
    stock, _ = sdpa_attention_forward(module, q, k, v, mask, scaling=SIZE ** -0.5)
    assert ours.shape == stock.shape == (1, queries, HEADS, SIZE)
    torch.testing.assert_close(ours, stock, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", ["one query", "training", "float mask"])
def test_hands_other_calls_to_transformers(monkeypatch, case):
    import transformers.integrations.sdpa_attention as stock

    handed = []
    monkeypatch.setattr(stock, "sdpa_attention_forward", lambda *a, **k: handed.append(case) or (None, None))
    module, q, k, v, mask = call(1 if case == "one query" else 8, torch.float32 if case == "float mask" else torch.bool,
                                 training=case == "training")
    grouped_sdpa_attention(module, q, k, v, mask)
    assert handed == [case]


def test_the_text_model_uses_it_and_decodes_as_stock_sdpa(tiny_bundle, studies):
    text = tiny_bundle.model.config.text_config
    assert text._attn_implementation == GROUPED_SDPA
    assert tiny_bundle.model.config.vision_config._attn_implementation == "sdpa"
    config = DecodeConfig(block_length=8, steps=1, max_new_tokens=19, record_trajectory=True)
    ours = generate(tiny_bundle, studies, config)
    text._attn_implementation = "sdpa"
    try:
        stock = generate(tiny_bundle, studies, config)
    finally:
        text._attn_implementation = GROUPED_SDPA
    assert [r.raw_token_ids for r in ours] == [r.raw_token_ids for r in stock]
    for a, b in zip(ours, stock):
        for x, y in zip(a.trajectory, b.trajectory):
            torch.testing.assert_close(x.top_probs, y.top_probs, rtol=1e-4, atol=1e-5)

