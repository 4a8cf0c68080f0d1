"""Report text (EN or ZH) -> structured labels, for scoring any report generator on the phantom.

Reading rules, per sentence (split on . ; 。 ； and section headers such as "Findings:" or
"结论："):
1. every cue of a finding type is a mention;
2. a mention is negated when a negation word ("no", "without", 未见, 无...) occurs between the
   sentence start (or the last "but"/"但") and the mention's end - so "No pneumothorax",
   "the trachea is not deviated" and "气管居中无偏移" are all negative;
3. each attribute of a positive mention is read from the cue nearest to it in the same sentence
   (laterality: "bilateral"/"both"/双 or both sides named -> bilateral where allowed); a missing
   attribute becomes "unspecified";
4. mentions of the same finding merge: first stated value of each attribute wins.
Any text is accepted: garbled model output gives partial labels, never an exception, and text
without cue words gives no labels at all.
"""

from __future__ import annotations

from collections.abc import Mapping

from echo_cxr.phantom.catalog import BILATERAL, CATALOG_BY_NAME, UNSPECIFIED, ZONES
from echo_cxr.phantom.labels import Label, canonical_labels
from echo_cxr.phantom.lexicon import HEADERS, LEXICONS, Cue, Lexicon
from echo_cxr.prompts import detect_language

Span = tuple[int, int]


def _distance(a: Span, b: Span) -> int:
    if a[0] < b[1] and b[0] < a[1]:
        return 0
    return min(abs(a[0] - b[1]), abs(b[0] - a[1]))


def _nearest(cues: tuple[Cue, ...], sentence: str, span: Span) -> tuple[str, int] | None:
    """(value, distance) of the cue nearest to ``span``; ties go to the earlier cue."""
    best: tuple[int, int, str] | None = None
    for pattern, value in cues:
        for match in pattern.finditer(sentence):
            key = (_distance(match.span(), span), match.start(), value)
            if best is None or key < best:
                best = key
    return None if best is None else (best[2], best[0])


def _laterality(lex: Lexicon, sentence: str, span: Span, allow_both: bool) -> str:
    if allow_both:
        named = {value for pattern, value in lex.sides if pattern.search(sentence)}
        if lex.bilateral.search(sentence) or len(named) == 2:
            return BILATERAL
    found = _nearest(lex.sides, sentence, span)
    return found[0] if found else UNSPECIFIED


def _zone(lex: Lexicon, sentence: str, span: Span) -> str:
    side, level = _nearest(lex.sides, sentence, span), _nearest(lex.levels, sentence, span)
    if side is None or level is None:
        return UNSPECIFIED
    zone = f"{side[0]}_{level[0]}"
    return zone if zone in ZONES else UNSPECIFIED


def _attributes(name: str, lex: Lexicon, sentence: str, span: Span) -> Label:
    label: Label = {"finding": name}
    for attr in CATALOG_BY_NAME[name].attributes:
        if attr.name == "laterality":
            value = _laterality(lex, sentence, span, BILATERAL in attr.values)
        elif attr.name == "zone":
            value = _zone(lex, sentence, span)
        else:
            cues = lex.sizes if attr.name == "size" else lex.severity.get(name, ())
            found = _nearest(cues, sentence, span)
            value = found[0] if found else UNSPECIFIED
        label[attr.name] = value
    return label


def _negated(lex: Lexicon, sentence: str, span: Span) -> bool:
    start = 0
    for reset in lex.reset.finditer(sentence, 0, span[0]):
        start = reset.end()
    return lex.negation.search(sentence, start, span[1]) is not None


def _sentences(text: str, lex: Lexicon) -> list[str]:
    text = HEADERS.sub("\n", text)
    return [s.strip() for s in lex.sentence_split.split(text) if s and s.strip()]


def _mentions(sentence: str, lex: Lexicon) -> list[Label]:
    found = []
    for name, patterns in lex.findings.items():
        for pattern in patterns:
            for match in pattern.finditer(sentence):
                if not _negated(lex, sentence, match.span()):
                    found.append((match.start(), _attributes(name, lex, sentence, match.span())))
    return [label for _, label in sorted(found, key=lambda item: item[0])]


def _merge(mentions: list[Label]) -> list[Label]:
    merged: dict[str, Label] = {}
    for label in mentions:
        kept = merged.setdefault(label["finding"], dict(label))
        for key, value in label.items():
            if kept.get(key) == UNSPECIFIED and value != UNSPECIFIED:
                kept[key] = value
    return list(merged.values())


def label_report(text: str, lang: str | None = None) -> list[Label]:
    """Canonical labels stated as present in a report (findings, impression, or both).

    ``lang``: "en" or "zh"; None detects it (Chinese when CJK characters are > 10% of the text).
    Accepts ``Findings: ... Impression: ...``, ``所见：... 结论：...``, either section alone, and
    partly garbled text. Attributes the text leaves out come back as "unspecified".
    """
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    lex = LEXICONS.get(lang or detect_language(text), LEXICONS["en"])
    mentions = [m for sentence in _sentences(text, lex) for m in _mentions(sentence, lex)]
    return canonical_labels(_merge(mentions), allow_unspecified=True)


def label_sample(ground_truth: Mapping[str, str], lang: str | None = None) -> list[Label]:
    """Labels of a release-format ``ground_truth`` dict ({"findings", "impression"})."""
    text = f"{ground_truth.get('findings', '')}\n{ground_truth.get('impression', '')}"
    return label_report(text, lang)


__all__ = ["label_report", "label_sample"]
