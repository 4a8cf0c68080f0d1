import pytest
import torch

from echo_cxr.decoding.config import DecodeConfig
from echo_cxr.decoding.sampling import entropy, filtered_probs, sample_tokens
from echo_cxr.errors import EchoError


def test_greedy_confidence_is_softmax_of_argmax():
    logits = torch.tensor([[[2.0, 1.0, 0.0]]])
    probs = filtered_probs(logits, 0.0, 0, 1.0)
    tokens, confidence = sample_tokens(probs, 0.0, [None], torch.tensor([True]))
    assert tokens.item() == 0
    assert confidence.item() == pytest.approx(torch.softmax(logits, -1)[0, 0, 0].item())


def test_top_k_and_top_p_filter():
    logits = torch.log(torch.tensor([[[0.5, 0.3, 0.15, 0.05]]]))
    assert (filtered_probs(logits, 1.0, 2, 1.0)[0, 0] > 0).tolist() == [True, True, False, False]
    assert (filtered_probs(logits, 1.0, 0, 0.7)[0, 0] > 0).tolist() == [True, True, False, False]
    assert (filtered_probs(logits, 1.0, 0, 0.5)[0, 0] > 0).tolist() == [True, False, False, False]
    assert filtered_probs(logits, 1.0, 0, 0.7)[0, 0, :2].sum().item() == pytest.approx(1.0)


def test_sampling_follows_distribution_and_seed():
    probs = torch.tensor([[[0.7, 0.2, 0.1]]]).expand(1, 4000, 3).contiguous()
    generator = torch.Generator().manual_seed(0)
    tokens, confidence = sample_tokens(probs, 1.0, [generator], torch.tensor([True]))
    share = torch.bincount(tokens.flatten(), minlength=3).float() / tokens.numel()
    assert torch.allclose(share, torch.tensor([0.7, 0.2, 0.1]), atol=0.03)
    assert torch.equal(confidence, probs.gather(-1, tokens[..., None]).squeeze(-1))
    again, _ = sample_tokens(probs, 1.0, [torch.Generator().manual_seed(0)], torch.tensor([True]))
    assert torch.equal(tokens, again)


def test_entropy_of_uniform():
    assert entropy(torch.full((4,), 0.25)).item() == pytest.approx(torch.log(torch.tensor(4.0)).item())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"strategy": "nope"}, "unknown strategy"),
        ({"steps": 0}, "steps must be between"),
        ({"block_length": 4, "steps": 5}, "steps must be between"),
        ({"block_length": 0}, "block length"),
        ({"temperature": -0.1}, "temperature"),
        ({"top_p": 0.0}, "top-p"),
        ({"top_p": 1.5}, "top-p"),
        ({"max_new_tokens": 0}, "max new tokens"),
    ],
)
def test_bad_settings_are_rejected(kwargs, message):
    with pytest.raises(EchoError, match=message):
        DecodeConfig(**kwargs)


def test_fused_default_follows_steps():
    assert DecodeConfig(block_length=8, steps=1).use_fused
    assert not DecodeConfig(block_length=8, steps=8).use_fused
    assert not DecodeConfig(block_length=8, steps=1, fused=False).use_fused
