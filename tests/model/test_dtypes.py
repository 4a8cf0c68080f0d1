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
