import pytest
import torch

from echo_cxr.decoding import DecodeConfig, generate
from echo_cxr.model import load


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_half_precision_decodes(studies, dtype):
    bundle = load("random:tiny", dtype=dtype, seed=1)
    assert bundle.model.dtype == getattr(torch, dtype)
    results = generate(bundle, studies[:2], DecodeConfig(block_length=4, steps=2, max_new_tokens=9))
    assert all(len(r.raw_token_ids) >= 9 for r in results)


def test_same_seed_same_weights_and_different_seed_different_weights():
    a, b, c = (load("random:tiny", seed=s).model for s in (4, 4, 5))
    weight = "model.language_model.layers.0.mlp.up_proj.weight"
    assert torch.equal(a.state_dict()[weight], b.state_dict()[weight])
    assert not torch.equal(a.state_dict()[weight], c.state_dict()[weight])


@pytest.mark.gpu
def test_cuda_matches_cpu_reference(studies):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    bundle = load("random:tiny", device="cuda", seed=1)
    config = DecodeConfig(block_length=4, steps=2, max_new_tokens=9)
    fast = generate(bundle, studies, config)
    slow = generate(bundle, studies, config, decoder="reference")
    assert [r.raw_token_ids for r in fast] == [r.raw_token_ids for r in slow]


# bfloat16 kernels round differently for different GEMM shapes (a fused 2L-token forward vs an
# L-token one, a batch vs one row), so bfloat16 paths are compared by token agreement, not equality.
MIN_BF16_AGREEMENT = 0.9
# Trained Phantom weights (float32-trained, small) are more sensitive: one flipped word shifts the rest
# of a report, which positional agreement counts as wrong. This test's own setting (8 phantom
# studies, bf16 linear layers) measured 0.79 on 2026-11-29; on 300 samples `ONLY=quality bench/cpu.sh`
# measured 0.964 (docs/benchmarks.md).
MIN_TRAINED_BF16_AGREEMENT = 0.7


def _bf16_copy(bundle, how):
    import copy
    from dataclasses import replace

    from echo_cxr.model.quantize import quantize_model

    copied = replace(bundle, model=copy.deepcopy(bundle.model))
    if how == "dtype":
        copied.model.to(torch.bfloat16)
        return copied
    return quantize_model(copied, "bf16")


@pytest.mark.parametrize("how", ["dtype", "linear"])
def test_bfloat16_paths_agree_with_each_other_and_with_float32(tiny_bundle, studies, how):
    from echo_cxr.bench.decode import token_agreement

    bf16 = _bf16_copy(tiny_bundle, how)
    common = dict(block_length=4, steps=1, max_new_tokens=12, ignore_eos=True)
    tokens = lambda bundle, rows, **kw: [r.token_ids for r in generate(bundle, rows, DecodeConfig(**common, **kw))]
    fused = tokens(bf16, studies, fused=True)
    assert token_agreement(fused, tokens(bf16, studies, fused=False)) >= MIN_BF16_AGREEMENT
    assert token_agreement(fused, [tokens(bf16, [s], fused=True)[0] for s in studies]) >= MIN_BF16_AGREEMENT
    assert token_agreement(fused, tokens(tiny_bundle, studies, fused=True)) >= MIN_BF16_AGREEMENT
    ar = DecodeConfig(block_length=1, steps=1, max_new_tokens=12, ignore_eos=True)
    assert token_agreement([r.token_ids for r in generate(bf16, studies, ar)],
                           [r.token_ids for r in generate(tiny_bundle, studies, ar)]) >= MIN_BF16_AGREEMENT


def test_bf16_linear_layers_replace_only_the_language_model(tiny_bundle):
    from echo_cxr.model.bf16_linear import BFloat16Linear

    model = _bf16_copy(tiny_bundle, "linear").model
    assert isinstance(model.lm_head, BFloat16Linear)
    assert not any(isinstance(m, torch.nn.Linear) for m in model.model.language_model.modules())
    assert all(not isinstance(m, BFloat16Linear) for m in model.model.visual.modules())
    layer = model.model.language_model.layers[0].self_attn.q_proj.group.linear  # q, k, v fused (with biases)
    assert isinstance(layer, BFloat16Linear)
    assert layer.weight.dtype == torch.bfloat16 and layer.bias.dtype == torch.float32
    x = torch.randn(2, 3, layer.in_features)
    plain = torch.nn.functional.linear(x, layer.weight.float(), layer.bias)
    assert torch.allclose(layer(x), plain, atol=1e-2, rtol=1e-2)
    assert torch.equal(layer(x[:, 1:]), layer(x[:, 1:].contiguous()))  # sliced (non-contiguous) inputs


def test_shipped_model_in_bfloat16_writes_nearly_the_float32_reports(tmp_path):
    """The speed path of docs/benchmarks.md on trained weights (random weights give near-ties)."""
    from echo_cxr.bench.decode import token_agreement
    from echo_cxr.decoding import Study
    from echo_cxr.model.builtin import available
    from echo_cxr.phantom.single import write_single_study

    if "phantom-echo-blk8" not in available():
        pytest.skip("this copy of echo-cxr ships no built-in model")
    rows = [Study(write_single_study(seed, tmp_path).paths) for seed in range(8)]
    config = DecodeConfig(block_length=8, steps=1, max_new_tokens=96)
    reports = lambda **kw: [r.token_ids for r in generate(load("builtin:phantom-echo-blk8", **kw), rows, config)]
    assert token_agreement(reports(quantize="bf16"), reports()) >= MIN_TRAINED_BF16_AGREEMENT
