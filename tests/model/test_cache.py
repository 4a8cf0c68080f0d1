import torch

from echo_cxr.model.cache import BlockKVCache


def kv(n, value):
    return torch.full((1, 2, n, 4), float(value))


def test_append_read_only_prefix_and_crop():
    cache = BlockKVCache(num_layers=1, capacity=2)  # small capacity forces growth
    keys, _ = cache.update(kv(3, 1), kv(3, 1), 0)
    assert keys.shape[-2] == 3 and cache.get_seq_length() == 3

    cache.commit = 0  # denoising pass: read, do not append
    keys, _ = cache.update(kv(2, 2), kv(2, 2), 0)
    assert keys.shape[-2] == 5 and keys[0, 0, 3:, 0].tolist() == [2.0, 2.0]
    assert cache.get_seq_length() == 3

    cache.commit = 2  # fused step: append only the first two of four
    keys, values = cache.update(torch.cat([kv(2, 3), kv(2, 4)], 2), torch.cat([kv(2, 3), kv(2, 4)], 2), 0)
    assert keys.shape[-2] == 7 and cache.get_seq_length() == 5
    cache.commit = None
    keys, _ = cache.update(kv(1, 5), kv(1, 5), 0)
    assert keys[0, 0, :, 0].tolist() == [1, 1, 1, 3, 3, 5]  # scratch of the last pass was overwritten

    cache.crop(-2)
    assert cache.get_seq_length() == 4
    cache.crop_to(3)
    assert cache.get_seq_length() == 3


def test_batch_select_keeps_rows():
    cache = BlockKVCache(num_layers=2)
    for layer in range(2):
        cache.update(torch.arange(3.0).view(3, 1, 1, 1).expand(3, 1, 2, 1), torch.zeros(3, 1, 2, 1), layer)
    cache.batch_select_indices(torch.tensor([0, 2]))
    keys, _ = cache.update(torch.zeros(2, 1, 0, 1), torch.zeros(2, 1, 0, 1), 1)
    assert keys[:, 0, 0, 0].tolist() == [0.0, 2.0]
