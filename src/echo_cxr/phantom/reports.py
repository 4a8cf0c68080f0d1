"""Writing normalised reports (METHOD.md section 4) from structured labels, EN and ZH.

Findings: one statement per region in the fixed order thorax; mediastinum and trachea; lung
fields; cardiac silhouette; hila; diaphragm and costophrenic angles; bony structures - a normal
statement when the region holds no finding, else one sentence per finding (in random order) -
then one sentence per support device. Impression: positive findings by clinical priority, then
devices; "no acute abnormality" (one of several phrasings) when nothing pathological is present.
Every sentence is drawn from the phrasebook's paraphrases with the study's own random stream.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from echo_cxr.errors import EchoError
from echo_cxr.phantom import phrases_en, phrases_zh
from echo_cxr.phantom.catalog import BILATERAL, REGIONS, by_priority, spec_of
from echo_cxr.prompts import format_reference

PHRASEBOOKS: dict[str, ModuleType] = {"en": phrases_en, "zh": phrases_zh}
LANGUAGES = tuple(PHRASEBOOKS)
DEVICE_REGION = "devices"
# Which label attribute feeds which template slot.
SLOT_SOURCES = {"side": "laterality", "sev": "severity", "sevly": "severity", "zone": "zone",
                "zside": "zone", "zlevel": "zone", "lesion": "size"}
EN_FINAL_PERIOD = "."  # the release's EN reference format adds the impression's final period


@dataclass(frozen=True)
class Report:
    """One report: findings and impression text in one language."""

    lang: str
    findings: str
    impression: str

    @property
    def text(self) -> str:
        """The full report in the release's reference format (``Findings: ... Impression: ...``)."""
        return format_reference(self.findings, self.impression, self.lang)

    def to_dict(self) -> dict[str, str]:
        return {"findings": self.findings, "impression": self.impression}


class _Slots(dict):
    """Template slots resolved on demand from one label, choosing among alternatives."""

    def __init__(self, label: Mapping[str, str], book: ModuleType, rng: np.random.Generator):
        super().__init__()
        self._label, self._book, self._rng = label, book, rng

    def __missing__(self, slot: str) -> str:
        source = SLOT_SOURCES.get(slot)
        if source is None or source not in self._label:
            raise KeyError(f"slot {slot!r} has no value for {self._label}")
        value = self._label[source]
        table = self._book.SLOTS[slot]
        overrides = getattr(self._book, "SEVERITY_OVERRIDES", {}).get(self._label["finding"], {})
        choices = overrides.get(value, table[value]) if slot == "sev" else table[value]
        word = choices[self._rng.integers(len(choices))] if len(choices) > 1 else choices[0]
        self[slot] = word
        return word


def _choose(options: Sequence[str], rng: np.random.Generator) -> str:
    return options[rng.integers(len(options))]


def _capitalise(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


def phrase_key(label: Mapping[str, str], table: Mapping[str, Sequence[str]]) -> str:
    """Phrasebook key of a label: bilateral variants have their own templates."""
    bilateral_key = f"{label['finding']}/{BILATERAL}"
    if label.get("laterality") == BILATERAL and bilateral_key in table:
        return bilateral_key
    return label["finding"]


def render_sentence(label: Mapping[str, str], table: Mapping[str, Sequence[str]],
                    book: ModuleType, rng: np.random.Generator) -> str:
    """One sentence about ``label`` from ``table`` (FINDING or IMPRESSION templates)."""
    template = _choose(table[phrase_key(label, table)], rng)
    return _capitalise(template.format_map(_Slots(label, book, rng)))


def _findings_sentences(labels: Sequence[Mapping[str, str]], book: ModuleType,
                        rng: np.random.Generator) -> list[str]:
    by_region: dict[str, list[Mapping[str, str]]] = {}
    for label in labels:
        by_region.setdefault(spec_of(label["finding"]).region, []).append(label)
    sentences = []
    for region in REGIONS:
        items = by_region.get(region, [])
        if not items and region != DEVICE_REGION:
            sentences.append(_choose(book.NORMAL[region], rng))
        for i in rng.permutation(len(items)):
            sentences.append(render_sentence(items[i], book.FINDING, book, rng))
    return sentences


def _impression_sentences(labels: Sequence[Mapping[str, str]], book: ModuleType,
                          rng: np.random.Generator) -> list[str]:
    by_name = {label["finding"]: label for label in labels}
    ordered = by_priority(list(by_name))
    sentences = [render_sentence(by_name[n], book.IMPRESSION, book, rng) for n in ordered]
    if not any(not spec_of(n).device for n in ordered):
        sentences.insert(0, _choose(book.NO_ACUTE, rng))
    return sentences


def compose_report(labels: Sequence[Mapping[str, str]], lang: str,
                   rng: np.random.Generator) -> Report:
    """A normalised report of ``labels`` in ``lang`` ("en" or "zh")."""
    if lang not in PHRASEBOOKS:
        raise EchoError(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    book = PHRASEBOOKS[lang]
    findings = book.SENTENCE_JOIN.join(_findings_sentences(labels, book, rng))
    impression = book.SENTENCE_JOIN.join(_impression_sentences(labels, book, rng))
    if lang == "en":
        impression = impression.removesuffix(EN_FINAL_PERIOD)
    return Report(lang=lang, findings=findings, impression=impression)


def word_count(text: str) -> int:
    """Whitespace-separated words (used for the 60-150 word range of EN reports)."""
    return len(text.split())
