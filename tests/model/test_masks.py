import torch

import pytest

from echo_cxr.model.masks import append_mask, block_causal_mask, causal_mask, release_mask_to_bool


def test_block_causal_sees_earlier_blocks_and_own_block():
    valid = torch.ones(1, 6, dtype=torch.bool)
    mask = block_causal_mask(torch.arange(6), valid, 2)[0, 0]
    expected = torch.tensor(
        [
            [1, 1, 0, 0, 0, 0],
            [1, 1, 0, 0, 0, 0],
            [1, 1, 1, 1, 0, 0],
            [1, 1, 1, 1, 0, 0],
            [1, 1, 1, 1, 1, 1],
            [1, 1, 1, 1, 1, 1],
        ],
        dtype=torch.bool,
    )
    assert torch.equal(mask, expected)


def test_queries_after_cache_use_canvas_indices():
    valid = torch.ones(1, 8, dtype=torch.bool)
    mask = block_causal_mask(torch.arange(4, 8), valid, 4)[0, 0]
    assert mask.all()  # block 1 sees block 0 and all of itself
    mask = block_causal_mask(torch.arange(4, 6), torch.ones(1, 6, dtype=torch.bool), 2)[0, 0]
    assert mask.tolist() == [[True] * 6, [True] * 6]


def test_padding_keys_hidden_and_padding_queries_see_only_themselves():
    valid = torch.tensor([[False, False, True, True]])
    mask = block_causal_mask(torch.arange(4), valid, 2)[0, 0]
    assert mask[2].tolist() == [False, False, True, True]
    assert mask[0].tolist() == [True, False, False, False]
    assert mask[1].tolist() == [False, True, False, False]


def test_block_length_one_is_causal():
    valid = torch.ones(2, 5, dtype=torch.bool)
    assert torch.equal(causal_mask(torch.arange(5), valid), block_causal_mask(torch.arange(5), valid, 1))
    assert torch.equal(causal_mask(torch.arange(5), valid)[0, 0], torch.ones(5, 5, dtype=torch.bool).tril())


def test_release_float_masks_converted():
    binary = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    assert release_mask_to_bool(binary).tolist() == [[True, False], [True, True]]
    additive = torch.tensor([[0.0, float("-inf")], [0.0, 0.0]])
    assert release_mask_to_bool(additive).tolist() == [[True, False], [True, True]]
    assert release_mask_to_bool(torch.zeros(2, 2)).all()  # all-zero additive = attend everywhere


def test_release_masks_for_eager_attention_are_additive():
    """Eager attention adds the mask to the scores (bool included): the remote code hands it 0 / min."""
    from echo_cxr.model.remote.modeling_echo import release_mask

    binary = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    lowest = torch.finfo(torch.float32).min
    assert release_mask(binary, "eager", torch.float32).tolist() == [[0.0, lowest], [0.0, 0.0]]
    assert release_mask(binary, "sdpa", torch.float32).dtype == torch.bool


@pytest.mark.parametrize("L", [1, 2, 4, 8])
@pytest.mark.parametrize("blocks_cached", [0, 1, 3])
@pytest.mark.parametrize("blocks_new", [1, 2])
def test_append_mask_equals_the_oracle(L, blocks_cached, blocks_new):
    generator = torch.Generator().manual_seed(L * 100 + blocks_cached * 10 + blocks_new)
    past, width = blocks_cached * L, blocks_new * L
    cached = torch.rand(3, past, generator=generator) > 0.3  # padding keys anywhere in the cache
    full_valid = torch.cat([cached, torch.ones(3, width, dtype=torch.bool)], 1)
    expected = block_causal_mask(torch.arange(past, past + width), full_valid, L)
    assert torch.equal(append_mask(cached, width, L), expected)


def test_append_mask_needs_whole_cached_blocks():
    with pytest.raises(ValueError, match="multiple of block length"):
        append_mask(torch.ones(1, 3, dtype=torch.bool), 4, 2)
