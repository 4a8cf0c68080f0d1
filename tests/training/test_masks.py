import itertools

import pytest
import torch

from echo_cxr.training.masks import full_duplication_mask, pack_masks, rad_mask


def roles(A, N, L, copies=1):
    """(role, block) of every slot: role 0 = context, 1 = clean, 2.. = noisy copy."""
    out = [(0, i // L) for i in range(A)]
    for copy in range(1 + copies):
        out += [(1 + copy, i // L) for i in range(N)]
    return out


def brute_force_rad(A, N, L, copies=1):
    r = roles(A, N, L, copies)
    T = len(r)
    mask = torch.zeros(T, T, dtype=torch.bool)
    for q, k in itertools.product(range(T), range(T)):
        (rq, bq), (rk, bk) = r[q], r[k]
        if rq == 0:
            allowed = rk == 0 and bk <= bq
        elif rq == 1:
            allowed = rk == 0 or (rk == 1 and bk <= bq)
        else:
            allowed = rk == 0 or (rk == 1 and bk < bq) or (rk == rq and bk == bq)
        mask[q, k] = allowed
    return mask


@pytest.mark.parametrize("A,N,L,copies", [(8, 12, 4, 1), (4, 8, 2, 1), (0, 8, 8, 1), (6, 9, 3, 2), (5, 5, 1, 1)])
def test_rad_mask_matches_brute_force(A, N, L, copies):
    assert torch.equal(rad_mask(A, N, L, noisy_copies=copies), brute_force_rad(A, N, L, copies))


def test_noisy_tokens_are_seen_only_by_their_own_block():
    A, N, L = 8, 12, 4
    mask = rad_mask(A, N, L)
    for key in range(A + N, A + 2 * N):
        seen_by = torch.nonzero(mask[:, key]).flatten().tolist()
        block = (key - A - N) // L
        assert seen_by == list(range(A + N + block * L, A + N + (block + 1) * L))


def test_causal_context_option():
    mask = rad_mask(6, 4, 2, mode="causal")
    assert torch.equal(mask[:6, :6], torch.ones(6, 6, dtype=torch.bool).tril())


def test_full_duplication_matches_brute_force():
    T, L = 10, 4
    mask = full_duplication_mask(T, L)
    for q, k in itertools.product(range(2 * T), range(2 * T)):
        bq, bk = (q % T) // L, (k % T) // L
        if q < T:
            expected = k < T and bk <= bq
        else:
            expected = (k < T and bk < bq) or (k >= T and bk == bq)
        assert bool(mask[q, k]) == expected


def test_pack_masks_isolates_samples_and_padding():
    a, b = torch.ones(2, 2, dtype=torch.bool), torch.ones(3, 3, dtype=torch.bool).tril()
    packed = pack_masks([a, b], 7)
    assert packed[:2, 2:].sum() == 0 and packed[2:5, :2].sum() == 0
    assert torch.equal(packed[2:5, 2:5], b)
    assert packed[5].tolist() == [False] * 5 + [True, False] and packed[:, 6].sum() == 1
