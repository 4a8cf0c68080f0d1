"""Truth sampling: normal share, prevalence overrides, co-occurrence, no hidden findings."""

from __future__ import annotations

import numpy as np

from echo_cxr.phantom import PhantomConfig
from echo_cxr.phantom.sampling import claimed_slots
from echo_cxr.phantom.study import study_labels

N = 3000


def _labels(config: PhantomConfig, seed: int = 11, n: int = N) -> list[list[dict]]:
    return [study_labels(seed, i, config) for i in range(n)]


def test_about_a_third_normal_and_at_most_max_findings():
    batch = _labels(PhantomConfig())
    normal = np.mean([not labels for labels in batch])
    assert 0.30 < normal < 0.37
    assert max(len(labels) for labels in batch) <= PhantomConfig().max_findings


def test_prevalence_overrides_and_normal_fraction():
    config = PhantomConfig(normal_fraction=0.0, prevalence={"pneumothorax": 1.0, "nodule": 0.0})
    batch = _labels(config, n=500)
    names = [{label["finding"] for label in labels} for labels in batch]
    assert all("nodule" not in found for found in names)
    # pneumothorax is always drawn; it is dropped only where an effusion already fills that
    # pleural space (hydropneumothorax is not in the catalog) or by the max-findings cap
    assert np.mean(["pneumothorax" in found for found in names]) > 0.8
    assert all(labels for labels in batch)


def test_all_zero_prevalence_gives_normal_studies():
    zero = {name: 0.0 for name in PhantomConfig().effective_prevalence()}
    batch = _labels(PhantomConfig(prevalence=zero, normal_fraction=0.0), n=100)
    assert all(not labels for labels in batch)


def test_edema_co_occurs_with_cardiomegaly():
    batch = [{label["finding"] for label in labels} for labels in _labels(PhantomConfig())]
    with_heart = [found for found in batch if "cardiomegaly" in found]
    without = [found for found in batch if found and "cardiomegaly" not in found]
    rate_with = np.mean(["pulmonary_edema" in f for f in with_heart])
    rate_without = np.mean(["pulmonary_edema" in f for f in without])
    assert rate_with > 2 * rate_without


def test_no_two_findings_claim_the_same_region():
    for labels in _labels(PhantomConfig(normal_fraction=0.0, max_findings=8), n=1500):
        slots = [claimed_slots(label) for label in labels]
        for i in range(len(slots)):
            for j in range(i + 1, len(slots)):
                assert not slots[i] & slots[j], labels
