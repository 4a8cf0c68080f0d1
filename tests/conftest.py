"""Shared fixtures: tiny random models built in code, synthetic studies. Nothing is downloaded."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# commands run without --model in the tests use a tiny random model (tests of the shipped default
# clear this: tests/model/test_builtin.py)
os.environ.setdefault("ECHO_CXR_DEFAULT_MODEL", "random:tiny")

import numpy as np
import pytest
import torch

# Multiplying the LM head makes the random model's distributions peaked, so that argmax,
# confidences and entropies are separated by far more than float32 noise between code paths.
PEAK_SCALE = 300.0


def make_image(seed: int, height: int, width: int) -> np.ndarray:
    return (np.random.default_rng(seed).random((height, width)) * 255).astype("uint8")


@pytest.fixture(scope="session")
def tiny_bundle():
    from echo_cxr.model import load

    bundle = load("random:tiny", seed=1)
    with torch.no_grad():
        bundle.model.lm_head.weight.mul_(PEAK_SCALE)
    return bundle


@pytest.fixture(scope="session")
def studies():
    """Three requests: different prompt lengths, one and two images, EN and ZH."""
    from echo_cxr.decoding import Study

    one, two = make_image(0, 70, 60), make_image(1, 90, 80)
    return [Study([one]), Study([one, two]), Study([two], language="zh")]
