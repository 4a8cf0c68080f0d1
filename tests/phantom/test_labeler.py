"""Labeler: exact round trip on phantom reports (EN, ZH), robustness to reordering and noise."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from echo_cxr.phantom import CATALOG, generate_study, label_report
from echo_cxr.phantom.labels import canonical_labels
from echo_cxr.phantom.reports import PHRASEBOOKS, render_sentence

from .conftest import ROUND_TRIP_STUDIES

LANGS = ("en", "zh")


def _all_labels():
    """Every label the catalog allows (all attribute combinations)."""
    for spec in CATALOG:
        values = [attr.values for attr in spec.attributes]
        for combo in itertools.product(*values):
            yield {"finding": spec.name, **dict(zip(spec.attribute_names, combo))}


@pytest.mark.parametrize("lang", LANGS)
def test_round_trip_on_random_studies(lang):
    for i in range(ROUND_TRIP_STUDIES):
        study = generate_study(2026, i, render=False)
        report = study.reports[lang]
        for text in (report.text, report.findings, report.impression):
            assert label_report(text) == study.labels, text
        assert label_report(report.text, lang=lang) == study.labels


@pytest.mark.parametrize("lang", LANGS)
def test_every_template_and_attribute_value_reads_back(lang):
    book = PHRASEBOOKS[lang]
    for label in _all_labels():
        truth = canonical_labels([label])
        for table in (book.FINDING, book.IMPRESSION):
            for k in range(6):  # slot alternatives are drawn at random
                sentence = render_sentence(label, table, book, np.random.default_rng(k))
                assert label_report(sentence, lang=lang) == truth, sentence


@pytest.mark.parametrize("lang", LANGS)
def test_normal_statements_give_no_findings(lang):
    book = PHRASEBOOKS[lang]
    for options in list(book.NORMAL.values()) + [book.NO_ACUTE]:
        for sentence in options:
            assert label_report(sentence, lang=lang) == [], sentence


@pytest.mark.parametrize("lang", LANGS)
def test_sentence_order_does_not_matter(lang):
    rng = np.random.default_rng(5)
    sep = ". " if lang == "en" else "。"
    for i in range(200):
        study = generate_study(77, i, render=False)
        sentences = [s for s in study.reports[lang].findings.split(sep.strip()) if s.strip()]
        shuffled = sep.join(sentences[j].strip() for j in rng.permutation(len(sentences)))
        assert label_report(shuffled, lang=lang) == study.labels


def test_headers_and_full_width_colons():
    text = ("FINDING：There is a small left pleural effusion blunting the costophrenic angle. "
            "IMPRESSIONS: Small left pleural effusion")
    expected = [{"finding": "pleural_effusion", "laterality": "left", "severity": "small"}]
    assert label_report(text) == expected
    assert label_report("所见: 左侧少量胸腔积液。结论:左侧少量胸腔积液。") == expected


def test_negation_and_missing_attributes():
    assert label_report("The trachea is not deviated. No hilar enlargement.") == []
    assert label_report("Pleural effusion.") == [
        {"finding": "pleural_effusion", "laterality": "unspecified", "severity": "unspecified"}]
    assert label_report("Small left effusion but no pneumothorax.")[0]["laterality"] == "left"
    assert label_report("No pneumothorax, but a large right pneumothorax is present.") == [
        {"finding": "pneumothorax", "laterality": "right", "severity": "large"}]


@pytest.mark.parametrize("lang", LANGS)
def test_garbled_reports_never_crash(lang):
    rng = np.random.default_rng(9)
    for i in range(300):
        text = generate_study(31, i, render=False).reports[lang].text
        tokens = text.split() if lang == "en" else list(text)
        joiner = " " if lang == "en" else ""
        shuffled = joiner.join(tokens[j] for j in rng.permutation(len(tokens)))
        cut = text[: int(rng.integers(0, len(text) + 1))]
        doubled = joiner.join(t for t in tokens for _ in range(int(rng.integers(1, 3))))
        for garbled in (shuffled, cut, doubled):
            labels = label_report(garbled)
            assert labels == canonical_labels(labels, allow_unspecified=True)


def test_pure_noise_gives_no_findings():
    rng = np.random.default_rng(4)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz .,;:!?0123456789\n"))
    for _ in range(300):
        ascii_noise = "".join(rng.choice(letters, size=int(rng.integers(0, 400))))
        cjk_noise = "".join(chr(int(c)) for c in rng.integers(0x4E00, 0x9FFF, size=120))
        junk = bytes(rng.integers(0, 256, size=200, dtype=np.uint8)).decode("latin-1")
        for noise in (ascii_noise, cjk_noise, junk, "", "。。。", "Findings: Impression:"):
            assert label_report(noise) == [], noise
    assert label_report(None) == []  # type: ignore[arg-type]
