"""Clinical scores against hand-computed values."""

from __future__ import annotations

import pytest

from echo_cxr.errors import EchoError
from echo_cxr.phantom import clinical_scores

EFF_L = {"finding": "pleural_effusion", "laterality": "left", "severity": "small"}
EFF_R = {"finding": "pleural_effusion", "laterality": "right", "severity": "small"}
CARDIO = {"finding": "cardiomegaly", "severity": "mild"}
PTX = {"finding": "pneumothorax", "laterality": "left", "severity": "large"}
ETT = {"finding": "endotracheal_tube"}


def test_hand_computed_example():
    truth = [[EFF_L, CARDIO], [PTX], []]
    pred = [[EFF_R, CARDIO, ETT], [], [ETT]]
    # effusion: tp 1 (wrong side); cardiomegaly: tp 1; ETT: fp 2; pneumothorax: fn 1
    s = clinical_scores(pred, truth)
    eff, ett, ptx = (s["per_finding"][k] for k in
                     ("pleural_effusion", "endotracheal_tube", "pneumothorax"))
    assert (eff["tp"], eff["fp"], eff["fn"], eff["f1"]) == (1, 0, 0, 1.0)
    assert (ett["precision"], ett["recall"], ett["f1"], ett["support"]) == (0.0, 0.0, 0.0, 0)
    assert (ptx["recall"], ptx["support"]) == (0.0, 1)
    # micro: tp 2, fp 2, fn 1 -> P 0.5, R 2/3, F1 4/7
    assert s["micro_precision"] == pytest.approx(0.5)
    assert s["micro_recall"] == pytest.approx(2 / 3)
    assert s["micro_f1"] == pytest.approx(4 / 7)
    # macro over the 4 findings seen: effusion 1, cardiomegaly 1, ETT 0, pneumothorax 0
    assert s["macro_f1"] == pytest.approx(0.5)
    assert s["attribute_accuracy"] == pytest.approx(0.5)  # cardiomegaly right, effusion side wrong
    assert s["hallucinated_per_report"] == pytest.approx(2 / 3)
    assert s["omitted_per_report"] == pytest.approx(1 / 3)
    assert s["n_reports"] == 3


def test_perfect_and_empty_predictions():
    truth = [[EFF_L], [CARDIO, ETT], []]
    perfect = clinical_scores(truth, truth)
    assert perfect["micro_f1"] == perfect["macro_f1"] == perfect["attribute_accuracy"] == 1.0
    assert perfect["hallucinated_per_report"] == perfect["omitted_per_report"] == 0.0
    empty = clinical_scores([[], [], []], truth)
    assert empty["micro_f1"] == 0.0 and empty["omitted_per_report"] == pytest.approx(1.0)


def test_unspecified_attribute_is_wrong_and_lengths_must_match():
    pred = [[{"finding": "cardiomegaly", "severity": "unspecified"}]]
    s = clinical_scores(pred, [[CARDIO]])
    assert s["micro_f1"] == 1.0 and s["attribute_accuracy"] == 0.0
    with pytest.raises(EchoError, match="predicted label lists"):
        clinical_scores([[]], [[], []])
