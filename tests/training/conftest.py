import pytest
import torch

from echo_cxr.decoding import Study
from echo_cxr.training.objectives import ObjectiveSettings
from echo_cxr.training.encode import make_example
from tests.conftest import make_image

REPORTS = [
    "Findings: The lungs are clear. The heart is normal. Impression: No acute abnormality.",
    "Findings: Moderate right pleural effusion. Impression: Right pleural effusion.",
    "所见：双肺清晰，心影不大。结论：未见异常。",
]


@pytest.fixture(scope="module")
def train_bundle():
    from echo_cxr.model import load

    bundle = load("random:tiny", seed=7)
    bundle.model.eval()
    return bundle


@pytest.fixture(scope="module")
def examples(train_bundle):
    studies = [Study([make_image(10, 60, 70)]), Study([make_image(11, 70, 60), make_image(12, 56, 56)]),
               Study([make_image(13, 64, 64)], language="zh")]
    return [make_example(train_bundle, s, r, f"s{i}") for i, (s, r) in enumerate(zip(studies, REPORTS))]


def settings_for(bundle, block_length=4, **kw):
    return ObjectiveSettings(block_length=block_length, mask_id=bundle.special.mask, eos_id=bundle.special.eos[0],
                             image_token_id=bundle.model.config.image_token_id, **kw)


def generator(seed=0):
    return torch.Generator().manual_seed(seed)
