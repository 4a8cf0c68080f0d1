"""DynamicBatcher without HTTP: batches equal one-at-a-time decoding, settings are never mixed,
a failing request is isolated, cancelled requests are dropped, a full queue is refused."""

from __future__ import annotations

from concurrent.futures import CancelledError

import pytest

from echo_cxr.apps.batcher import DynamicBatcher, QueueFullError
from echo_cxr.decoding import DecodeConfig, Study, generate
from echo_cxr.errors import EchoError
from tests.conftest import make_image

SMALL = DecodeConfig(block_length=4, steps=2, max_new_tokens=8)
SAMPLED = DecodeConfig(block_length=4, steps=2, max_new_tokens=8, temperature=0.9)


def studies():
    one, two = make_image(20, 70, 60), make_image(21, 60, 90)
    return [Study([one]), Study([one, two], seed=3), Study([two], language="zh", seed=5)]


@pytest.mark.parametrize("config", [SMALL, SAMPLED], ids=["greedy", "sampled"])
def test_a_batch_equals_each_request_alone(tiny_bundle, config):
    batcher = DynamicBatcher(tiny_bundle, max_batch_size=3, window_s=5.0)  # closes when 3 are in
    futures = [batcher.submit(study, config) for study in studies()]
    batcher.start()
    try:
        results = [f.result(timeout=60) for f in futures]
    finally:
        batcher.stop()
    assert batcher.stats.batches == 1 and batcher.stats.largest == 3
    for study, result in zip(studies(), results):
        assert result.token_ids == generate(tiny_bundle, [study], config)[0].token_ids


def test_other_settings_wait_for_their_own_batch(tiny_bundle):
    batcher = DynamicBatcher(tiny_bundle, max_batch_size=4, window_s=0.0)
    other = DecodeConfig(block_length=8, steps=1, max_new_tokens=8)
    first, second, third = studies()
    futures = [batcher.submit(first, SMALL), batcher.submit(second, other), batcher.submit(third, SMALL),
               batcher.submit(first, SMALL, decoder="ar")]
    batcher.start()
    try:
        results = [f.result(timeout=60) for f in futures]
    finally:
        batcher.stop()
    assert batcher.stats.batches == 3 and batcher.stats.requests == 4 and batcher.stats.largest == 2
    assert results[1].token_ids == generate(tiny_bundle, [second], other)[0].token_ids
    assert results[3].token_ids == generate(tiny_bundle, [first], SMALL, decoder="ar")[0].token_ids


def test_a_failing_request_is_isolated(tiny_bundle, tmp_path):
    batcher = DynamicBatcher(tiny_bundle, max_batch_size=3, window_s=5.0)
    good = studies()[:2]
    futures = [batcher.submit(good[0], SMALL), batcher.submit(Study([str(tmp_path / "gone.png")]), SMALL),
               batcher.submit(good[1], SMALL)]
    batcher.start()
    try:
        with pytest.raises(EchoError, match="image not found"):
            futures[1].result(timeout=60)
        assert futures[0].result(timeout=60).token_ids == generate(tiny_bundle, [good[0]], SMALL)[0].token_ids
        assert futures[2].result(timeout=60).token_ids == generate(tiny_bundle, [good[1]], SMALL)[0].token_ids
    finally:
        batcher.stop()
    assert batcher.stats.failed_batches == 1


def test_full_queue_cancelled_requests_and_stop(tiny_bundle):
    batcher = DynamicBatcher(tiny_bundle, max_batch_size=2, window_s=0.0, max_queue=2)
    first, second, third = studies()
    kept, dropped = batcher.submit(first, SMALL), batcher.submit(second, SMALL)
    with pytest.raises(QueueFullError, match="queue is full"):
        batcher.submit(third, SMALL)
    assert dropped.cancel() and batcher.queue_length() == 1  # a client gave up: its slot is free again
    waiting = batcher.submit(third, DecodeConfig(block_length=2, max_new_tokens=4))
    batcher.start()
    assert kept.result(timeout=60).token_ids == generate(tiny_bundle, [first], SMALL)[0].token_ids
    waiting.result(timeout=60)
    with pytest.raises(CancelledError):
        dropped.result()
    batcher.stop()
    with pytest.raises(EchoError, match="shutting down"):
        batcher.submit(first, SMALL)


def test_settings_are_validated():
    with pytest.raises(EchoError, match="max batch size"):
        DynamicBatcher(None, max_batch_size=0)
    with pytest.raises(EchoError, match="max queue"):
        DynamicBatcher(None, max_queue=0)
