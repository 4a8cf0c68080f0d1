"""Report writing: paraphrase supply, region order, length, formats."""

from __future__ import annotations

import re
import string

import numpy as np
import pytest

from echo_cxr.phantom import PhantomConfig, generate_study
from echo_cxr.phantom.catalog import REGIONS
from echo_cxr.phantom.reports import PHRASEBOOKS, compose_report, word_count

LANGS = tuple(PHRASEBOOKS)
EN_REGION_WORDS = ("pneumothorax|thora|chest wall", "trachea|mediastin", "lung|consolidation",
                   "cardiac|heart", "hila|hilar", "costophrenic|diaphragm", "osseous|bony|rib")


def _shape(template: str, lang: str) -> tuple:
    """Word sequence of a template with slots as placeholders (ZH: characters)."""
    text = re.sub(r"\{\w+\}", "#", template)
    return tuple(text.lower().split()) if lang == "en" else tuple(text)


KEYWORDS = {
    "en": {"pneumothorax": "pneumothorax", "tracheal_deviation": "trache", "consolidation":
           "consolidation", "nodule": "{lesion}", "atelectasis": "atelectasis",
           "pulmonary_edema": "edema", "cardiomegaly": "cardiomegaly|enlarge", "hilar": "hil",
           "pleural_effusion": "effusion", "elevated_hemidiaphragm": "hemidiaphragm",
           "rib_fracture": "fracture", "endotracheal_tube": "endotracheal",
           "nasogastric_tube": "nasogastric", "central_venous_catheter": "central",
           "pacemaker": "pacemaker|pacing"},
    "zh": {"pneumothorax": "气胸", "tracheal_deviation": "气管", "consolidation": "实变",
           "nodule": "{lesion}", "atelectasis": "不张", "pulmonary_edema": "水肿",
           "cardiomegaly": "增大", "hilar": "肺门", "pleural_effusion": "积液",
           "elevated_hemidiaphragm": "膈", "rib_fracture": "骨折", "endotracheal_tube": "插管",
           "nasogastric_tube": "胃管", "central_venous_catheter": "中心静脉",
           "pacemaker": "起搏器"},
}
THIRDS = 3


def _order(template: str, key: str, lang: str) -> tuple:
    """Word-order signature: order of the slots and the finding's keyword, and in which third
    of the sentence the keyword sits."""
    name = key.split("/")[0].replace("_enlargement", "")
    keyword = re.search(KEYWORDS[lang][name], template, re.IGNORECASE)
    items = [(m.start(), m.group(1)) for m in re.finditer(r"\{(\w+)\}", template)]
    items.append((keyword.start(), "KEYWORD"))
    third = int(THIRDS * keyword.start() / len(template))
    return tuple(name for _, name in sorted(items)), third


@pytest.mark.parametrize("lang", LANGS)
def test_paraphrase_supply(lang):
    book = PHRASEBOOKS[lang]
    for region, options in book.NORMAL.items():
        assert len(set(options)) >= 3, (lang, region)
        assert len({_shape(o, lang)[:2] for o in options}) >= 2, (lang, region)  # word order
    for table in (book.FINDING, book.IMPRESSION):
        for key, options in table.items():
            assert len(set(options)) >= 2, (lang, key)
            shapes = {_shape(o, lang) for o in options}
            assert len(shapes) == len(options), (lang, key)
            # word order differs: the opening words or the order of the slots change
            assert len({_order(o, key, lang) for o in options}) >= 2, (lang, key)
    assert len(book.NO_ACUTE) >= 3


def test_en_reports_follow_region_order_and_length():
    config = PhantomConfig()
    lengths = []
    for i in range(1500):
        study = generate_study(21, i, config, render=False)
        en = study.reports["en"]
        lengths.append(word_count(en.findings) + word_count(en.impression))
        if not study.labels:
            sentences = [s for s in en.findings.split(". ") if s]
            assert len(sentences) == len(REGIONS) - 1
            for sentence, words in zip(sentences, EN_REGION_WORDS):
                assert re.search(words, sentence.lower()), sentence
    assert min(lengths) >= 60 and max(lengths) <= 150


def test_report_text_formats():
    study = generate_study(3, 4, render=False)
    en, zh = study.reports["en"], study.reports["zh"]
    assert en.text == f"Findings: {en.findings} Impression: {en.impression}."
    assert zh.text == f"所见：{zh.findings} 结论：{zh.impression}"
    assert not any(ch in string.ascii_letters for ch in zh.findings + zh.impression)
    assert en.findings.endswith(".") and not en.impression.endswith(".")


def test_reports_vary_for_the_same_findings():
    labels = [{"finding": "pleural_effusion", "laterality": "left", "severity": "small"}]
    texts = {compose_report(labels, "en", np.random.default_rng(k)).findings for k in range(60)}
    assert len(texts) >= 20


def test_unknown_language_is_an_error():
    from echo_cxr.errors import EchoError

    with pytest.raises(EchoError, match="unknown language"):
        compose_report([], "fr", np.random.default_rng(0))
