import math

import pytest
import torch

from echo_cxr.decoding.config import DecodeConfig
from echo_cxr.decoding.strategies import STRATEGIES, StepScores, choose_commits

NEG = float("-inf")


def scores(confidence, masked, entropy=None):
    masked = torch.tensor(masked, dtype=torch.bool)
    confidence = torch.tensor(confidence).masked_fill(~masked, NEG)
    return StepScores(confidence, masked, None if entropy is None else torch.tensor(entropy))


def run(name, s, quota, **kw):
    config = DecodeConfig(block_length=4, steps=2, strategy=name, **kw)
    return STRATEGIES[name].fn(s, quota, config).tolist()


def test_sequential_takes_leftmost_masked():
    s = scores([[0.9, 0.1, 0.8, 0.7]], [[False, True, True, True]])
    assert run("sequential", s, 2) == [[False, True, True, False]]


def test_static_takes_most_confident_masked():
    s = scores([[0.9, 0.1, 0.8, 0.7]], [[False, True, True, True]])
    assert run("low_confidence_static", s, 2) == [[False, False, True, True]]


def test_dynamic_uses_threshold_when_enough_positions_pass():
    s = scores([[0.95, 0.9, 0.2, 0.99]], [[True, True, True, True]])
    assert run("low_confidence_dynamic", s, 2, threshold=0.85) == [[True, True, False, True]]
    assert run("low_confidence_dynamic", s, 4, threshold=0.85) == [[True, True, True, True]]
    few = scores([[0.95, 0.3, 0.2, 0.4]], [[True, True, True, True]])
    assert run("low_confidence_dynamic", few, 2, threshold=0.85) == [[True, False, False, True]]


def test_confidence_threshold_falls_back_to_single_best():
    s = scores([[0.2, 0.3, 0.1, 0.25]], [[True, True, True, True]])
    assert run("confidence_threshold", s, 2, threshold=0.9) == [[False, True, False, False]]
    s = scores([[0.95, 0.3, 0.92, 0.25]], [[True, True, True, True]])
    assert run("confidence_threshold", s, 1, threshold=0.9) == [[True, False, True, False]]


def test_entropy_bounded_commits_low_entropy_under_bound():
    s = scores([[0.5] * 4], [[True, True, True, False]], entropy=[[0.2, 0.1, 0.3, 0.0]])
    assert run("entropy_bounded", s, 1, entropy_bound=0.35) == [[True, True, False, False]]
    high = scores([[0.5] * 4], [[True, True, True, True]], entropy=[[2.0, 1.5, 3.0, 2.5]])
    assert run("entropy_bounded", high, 1, entropy_bound=0.35) == [[False, True, False, False]]


def test_rows_are_independent_and_unmasked_rows_commit_nothing():
    s = scores([[0.9, 0.8, 0.1, 0.2], [0.1, 0.2, 0.3, 0.4]], [[True, True, True, True], [False] * 4])
    out = run("low_confidence_static", s, 2)
    assert out == [[True, True, False, False], [False] * 4]


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_one_step_commits_everything(name):
    s = scores([[0.1, 0.2, 0.3, 0.4]], [[True, False, True, True]], entropy=[[5.0] * 4])
    config = DecodeConfig(block_length=4, steps=1, strategy=name)
    assert choose_commits(s, 4, config).tolist() == [[True, False, True, True]]


def test_quota_schedule():
    config = DecodeConfig(block_length=8, steps=3)
    assert [config.step_quota(i) for i in range(3)] == [3, 3, 2]
    assert sum(DecodeConfig(block_length=8, steps=8).step_quota(i) for i in range(8)) == 8
    assert math.isclose(DecodeConfig(block_length=4).num_steps, 4)


@pytest.mark.parametrize("quota", [1, 2])
def test_top_k_ties_go_left_and_short_rows_commit_all_their_masks(quota):
    s = scores([[0.5, 0.7, 0.7, 0.1], [0.9, 0.2, 0.3, 0.3], [0.1, 0.2, 0.3, 0.4]],
               [[True, True, True, True], [False, False, False, True], [False, False, False, False]])
    tied = [[False, True, False, False], [False, True, True, False]][quota - 1]
    assert run("low_confidence_static", s, quota) == [tied, [False, False, False, True], [False] * 4]
