import torch

from echo_cxr.model.masks import block_causal_mask, causal_mask, release_mask_to_bool


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
