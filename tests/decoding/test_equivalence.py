"""Every fast path against its slow oracle (STYLE rule 2): cached/batched/fused vs reference."""

from dataclasses import replace

import pytest
import torch

from echo_cxr.decoding import Callbacks, DecodeConfig, generate
from echo_cxr.decoding.strategies import STRATEGIES

MAX_NEW = 19  # not a multiple of any tested L
GRID = sorted({(L, S) for L in (1, 4, 8) for S in (1, 2, L) if S <= L})


def ids(results):
    return [r.raw_token_ids for r in results]


def test_prompts_are_not_block_aligned(tiny_bundle, studies):
    from echo_cxr.decoding.api import encode

    lengths = [p.length for p in encode(tiny_bundle, studies)]
    assert len(set(lengths)) == 3
    assert all(n % 4 for n in lengths) and all(n % 8 for n in lengths)


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
@pytest.mark.parametrize("L,S", GRID)
def test_blockwise_equals_reference(tiny_bundle, studies, L, S, strategy):
    config = DecodeConfig(block_length=L, steps=S, strategy=strategy, max_new_tokens=MAX_NEW,
                          threshold=0.5, entropy_bound=1.0)
    fast = generate(tiny_bundle, studies, config)
    slow = generate(tiny_bundle, studies, config, decoder="reference")
    assert ids(fast) == ids(slow)
    assert all(len(r.raw_token_ids) >= MAX_NEW for r in fast)


@pytest.mark.parametrize("L,S", [(4, 2), (8, 1), (8, 8)])
def test_batch_equals_one_by_one(tiny_bundle, studies, L, S):
    config = DecodeConfig(block_length=L, steps=S, max_new_tokens=MAX_NEW)
    batched = generate(tiny_bundle, studies, config)
    alone = [generate(tiny_bundle, [study], config)[0] for study in studies]
    assert ids(batched) == ids(alone)
    assert [r.stats.forward_passes for r in batched] == [r.stats.forward_passes for r in alone]


def test_sampling_is_per_request_and_matches_reference(tiny_bundle, studies):
    config = DecodeConfig(block_length=4, steps=2, temperature=0.8, top_k=40, top_p=0.9, seed=5,
                          max_new_tokens=MAX_NEW)
    batched = generate(tiny_bundle, studies, config)
    alone = [generate(tiny_bundle, [s], config)[0] for s in studies]
    slow = generate(tiny_bundle, studies, config, decoder="reference")
    assert ids(batched) == ids(alone) == ids(slow)
    other = generate(tiny_bundle, studies, replace(config, seed=6))
    assert ids(other) != ids(batched)


@pytest.mark.parametrize("L", [4, 8])
def test_fused_equals_unfused(tiny_bundle, studies, L):
    base = DecodeConfig(block_length=L, steps=1, max_new_tokens=MAX_NEW, record_trajectory=True)
    fused = generate(tiny_bundle, studies, base)
    unfused = generate(tiny_bundle, studies, replace(base, fused=False))
    assert ids(fused) == ids(unfused)
    for f, u in zip(fused, unfused):
        assert f.stats.kv_append_passes == 0 and u.stats.kv_append_passes == len(u.trajectory) - 1
        assert f.stats.forward_passes == u.stats.forward_passes == len(f.trajectory)
        for a, b in zip(f.trajectory, u.trajectory):
            torch.testing.assert_close(a.top_probs, b.top_probs, rtol=1e-4, atol=1e-5)


def test_fused_multi_step_equals_unfused(tiny_bundle, studies):
    config = DecodeConfig(block_length=4, steps=4, max_new_tokens=MAX_NEW)
    assert ids(generate(tiny_bundle, studies, replace(config, fused=True))) == ids(generate(tiny_bundle, studies, config))


def test_block_length_one_equals_ar(tiny_bundle, studies):
    config = DecodeConfig(block_length=1, steps=1, max_new_tokens=MAX_NEW)
    ar = generate(tiny_bundle, studies, config, decoder="ar")
    assert ids(ar) == ids(generate(tiny_bundle, studies, config))
    assert all(r.stats.tokens_per_forward == 1.0 for r in ar)


def test_rows_stop_at_their_own_eos(tiny_bundle, studies):
    config = DecodeConfig(block_length=4, steps=1, max_new_tokens=40)
    free = generate(tiny_bundle, studies, config)
    # an id whose first occurrence differs per row (or is absent), used as EOS: rows stop apart
    def first(token, row):
        return row.index(token) if token in row else len(row)

    seen = sorted({t for r in free for t in r.raw_token_ids})
    candidates = [t for t in seen if len({first(t, r.raw_token_ids) for r in free}) == len(free)]
    assert candidates, "the tiny model should produce row-specific tokens"
    eos = candidates[0]
    eos_bundle = replace(tiny_bundle, special=replace(tiny_bundle.special, eos=(eos,)))
    stopped = generate(eos_bundle, studies, config)
    alone = [generate(eos_bundle, [s], config)[0] for s in studies]
    assert ids(stopped) == ids(alone)
    lengths = [len(r.raw_token_ids) for r in stopped]
    assert len(set(lengths)) >= 2
    for result, free_result in zip(stopped, free):
        if eos in free_result.raw_token_ids:
            assert result.finish_reason == "eos" and eos not in result.token_ids
            assert result.token_ids == free_result.raw_token_ids[: first(eos, free_result.raw_token_ids)]
    shortest, longest = lengths.index(min(lengths)), lengths.index(max(lengths))
    assert stopped[shortest].stats.forward_passes < stopped[longest].stats.forward_passes
    reference = generate(eos_bundle, studies, config, decoder="reference")
    assert ids(reference) == ids(stopped)
    ignoring = generate(eos_bundle, studies, replace(config, ignore_eos=True))
    assert ids(ignoring) == ids(free)


def test_block_callback_streams_every_token(tiny_bundle, studies):
    events = []
    config = DecodeConfig(block_length=8, steps=2, max_new_tokens=MAX_NEW)
    results = generate(tiny_bundle, studies, config, callbacks=Callbacks(on_block=events.append))
    for index, result in enumerate(results):
        mine = [e for e in events if e.request == index]
        assert [t for e in mine for t in e.token_ids] == result.raw_token_ids
        assert [e.block for e in mine] == list(range(len(mine))) and mine[-1].final


def test_step_callback_shows_masks(tiny_bundle, studies):
    steps = []
    config = DecodeConfig(block_length=4, steps=4, strategy="sequential", max_new_tokens=8)
    generate(tiny_bundle, studies[:1], config, callbacks=Callbacks(on_step=steps.append))
    mask = tiny_bundle.special.mask
    first_generated_block = [e for e in steps if e.block == 1]
    assert [e.tokens.count(mask) for e in first_generated_block] == [3, 2, 1, 0]
    assert all(sum(e.committed) == 1 for e in first_generated_block)


def test_trajectory_records_commit_steps_and_distributions(tiny_bundle, studies):
    config = DecodeConfig(block_length=4, steps=4, strategy="low_confidence_static", max_new_tokens=12,
                          record_trajectory=True, record_top_k=5)
    result = generate(tiny_bundle, studies[:1], config)[0]
    reference = generate(tiny_bundle, studies[:1], config, decoder="reference")[0]
    for fast, slow in zip(result.trajectory, reference.trajectory):
        assert torch.equal(fast.commit_step, slow.commit_step)
        assert torch.equal(fast.top_ids, slow.top_ids)
        torch.testing.assert_close(fast.top_probs, slow.top_probs, rtol=1e-4, atol=1e-5)
        generated = fast.generated
        assert (fast.commit_step[~generated] == -1).all()
        assert sorted(fast.commit_step[generated].tolist()) == list(range(int(generated.sum())))
        assert torch.equal(fast.top_ids[generated, 0], fast.tokens[generated])  # greedy = argmax
        assert (fast.top_probs[generated].diff(dim=-1) <= 0).all()


def test_stats_are_consistent(tiny_bundle, studies):
    from echo_cxr.decoding.api import encode

    L = 8
    config = DecodeConfig(block_length=L, steps=1, max_new_tokens=MAX_NEW)
    prompts = encode(tiny_bundle, studies)
    for prompt, result in zip(prompts, generate(tiny_bundle, studies, config)):
        stats = result.stats
        assert stats.new_tokens == len(result.token_ids) == MAX_NEW
        assert stats.committed_tokens == len(result.raw_token_ids)
        # one forward per block; the first block also holds the prompt's tail (P mod L tokens)
        assert stats.committed_tokens == stats.forward_passes * L - prompt.length % L
        assert stats.tokens_per_forward == stats.committed_tokens / stats.forward_passes
        assert stats.prompt_tail == prompt.length % L and stats.block_tokens_per_forward == L
        assert stats.prefill_seconds > 0 and stats.decode_seconds > 0 and stats.tokens_per_second > 0
