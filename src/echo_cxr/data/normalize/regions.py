"""The paper's fixed region order (METHOD.md section 4) and reading a rewrite back into sections.

A rewrite must be ``Findings:`` (optional header), then one labelled statement per region in this
order - thorax; mediastinum and trachea; lung fields; cardiac silhouette; hila; diaphragm and
costophrenic angles; bony structures; tubes, lines and other - then ``Impression:``. Labels are
read tolerantly (any case, markdown bold, bullets or numbers, ``&`` for "and", a few common
names such as "Lungs:" or "Bones:" at the start of a line, full-width colons in Chinese); a
``<think>`` block or code fence around the answer is ignored. What is not tolerated is what the
checks exist for: a region missing, repeated, empty or out of order, or no impression.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

REGIONS = ("thorax", "mediastinum", "lungs", "heart", "hila", "diaphragm", "bones", "other")
FINDINGS_HEADER, IMPRESSION_HEADER = "findings", "impression"
LABELS = {  # canonical label first: the prompt shows it, and it is recognised anywhere in a line
    "en": {
        "thorax": ("Thorax", "Chest wall", "Thoracic cage"),
        "mediastinum": ("Mediastinum and trachea", "Trachea and mediastinum", "Mediastinum/trachea", "Mediastinum"),
        "lungs": ("Lung fields", "Lungs", "Lung"),
        "heart": ("Cardiac silhouette", "Heart", "Cardiac"),
        "hila": ("Hila", "Hilum", "Hilar regions", "Hilar"),
        "diaphragm": ("Diaphragm and costophrenic angles", "Diaphragms and costophrenic angles",
                      "Diaphragm/costophrenic angles", "Diaphragm", "Costophrenic angles"),
        "bones": ("Bony structures", "Bones", "Osseous structures", "Bony thorax"),
        "other": ("Tubes, lines and other", "Tubes, lines, and other", "Tubes/lines/other", "Tubes, lines and devices",
                  "Tubes, lines, devices and other", "Tubes and lines", "Lines and tubes", "Tubes/lines",
                  "Lines/tubes", "Lines and devices", "Support devices", "Devices", "Other", "Others",
                  "Other findings", "Additional findings"),
        FINDINGS_HEADER: ("Findings",),
        IMPRESSION_HEADER: ("Impression", "Conclusion"),
    },
    "zh": {
        "thorax": ("胸廓",), "mediastinum": ("纵隔与气管", "纵隔及气管", "纵隔和气管", "纵隔"),
        "lungs": ("肺野", "双肺", "肺"), "heart": ("心影", "心脏"), "hila": ("肺门",),
        "diaphragm": ("膈肌与肋膈角", "膈肌及肋膈角", "膈面与肋膈角", "膈肌", "肋膈角"),
        "bones": ("骨性结构", "骨骼", "骨质"), "other": ("管线及其他", "管线与其他", "其他", "管线"),
        FINDINGS_HEADER: ("所见", "影像所见"), IMPRESSION_HEADER: ("结论", "印象", "诊断"),
    },
}
NONE_TEXTS = {"none", "n/a", "na", "nil", "not applicable", "no tubes or lines", "no tubes, lines or devices",
              "无", "无特殊", "未见", "无管线"}
SENTENCE_END = {"en": ".!?;", "zh": "。！？；."}
JOINER = {"en": " ", "zh": ""}
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"^\s*```[a-zA-Z]*\s*$", re.MULTILINE)
_DECORATION = r"[ \t]*(?:[-*•>]+|\d+[.)、])?[ \t*_#]*"


class RewriteError(ValueError):
    """A rewrite that does not have the required structure; the message is the audit reason."""


@dataclass(frozen=True)
class ParsedRewrite:
    regions: dict[str, str]  # region -> its statement, in REGIONS order
    impression: str

    def findings(self, language: str, with_labels: bool = False) -> str:
        """The findings as one text in region order; an "other" region saying none is left out."""
        parts = []
        for region in REGIONS:
            text = self.regions[region]
            if region == "other" and is_none(text):
                continue
            text = text if text[-1] in SENTENCE_END[language] else text + ("。" if language == "zh" else ".")
            parts.append(f"{LABELS[language][region][0]}{'：' if language == 'zh' else ': '}{text}"
                         if with_labels else text)
        return JOINER[language].join(parts)


def is_none(text: str) -> bool:
    return text.strip().strip(".。").strip().lower() in NONE_TEXTS


def _pattern(language: str) -> re.Pattern:
    """Label occurrences: any alias (any case) at the start of a line; inside a line only the
    canonical label, as written or in upper case (so "the bony thorax: intact" is not a label)."""
    aliases = sorted(((a, kind) for kind, names in LABELS[language].items() for a in names), key=lambda x: -len(x[0]))
    start = "|".join(re.escape(a).replace(r"\ and\ ", r"\s*(?:and|&)\s*") for a, _ in aliases)
    canonical = [names[0] for names in LABELS[language].values()]
    anywhere = "|".join(re.escape(v) for label in canonical for v in dict.fromkeys((label, label.upper())))
    colon = r"[ \t*_]*[:：][ \t*_]*"
    return re.compile(rf"(?:^{_DECORATION}(?P<a>{start})|(?<![\w])(?-i:(?P<b>{anywhere}))){colon}",
                      re.IGNORECASE | re.MULTILINE)


_PATTERNS: dict[str, re.Pattern] = {}
_KIND_BY_LABEL = {lang: {re.sub(r"\s+", " ", a.lower()): k for k, names in labels.items() for a in names}
                  for lang, labels in LABELS.items()}


def _kind(language: str, label: str) -> str:
    key = re.sub(r"\s*&\s*", " and ", re.sub(r"\s+", " ", label.lower())).strip()
    return _KIND_BY_LABEL[language][key]


def _sections(text: str, language: str) -> list[tuple[str, str]]:
    pattern = _PATTERNS.setdefault(language, _pattern(language))
    marks = list(pattern.finditer(text))
    sections = []
    for index, mark in enumerate(marks):
        stop = marks[index + 1].start() if index + 1 < len(marks) else len(text)
        body = " ".join(text[mark.end():stop].split()).strip(" *_")
        sections.append((_kind(language, mark.group("a") or mark.group("b")), body))
    return sections


def parse_rewrite(text: str, language: str) -> ParsedRewrite:
    """The regions and impression of a rewrite, or ``RewriteError`` naming what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise RewriteError("malformed: empty answer")
    cleaned = _FENCE.sub("", _THINK.sub("", text))
    sections = [(k, b) for k, b in _sections(cleaned, language) if k != FINDINGS_HEADER]
    kinds = [kind for kind, _ in sections]
    if not any(kind in REGIONS for kind in kinds):
        raise RewriteError("malformed: no region labels (Thorax: ... Impression: ...)")
    for kind in (*REGIONS, IMPRESSION_HEADER):
        if kinds.count(kind) > 1:
            raise RewriteError(f"duplicate_region: {kind}")
    missing = [region for region in REGIONS if region not in kinds]
    if missing:
        raise RewriteError(f"missing_region: {', '.join(missing)}")
    if IMPRESSION_HEADER not in kinds:
        raise RewriteError("missing_impression")
    if kinds != [*REGIONS, IMPRESSION_HEADER]:
        raise RewriteError(f"region_order: {' > '.join(kinds)}")
    body = dict(sections)
    empty = [region for region in REGIONS if not body[region]]
    if empty:
        raise RewriteError(f"empty_region: {', '.join(empty)}")
    if not body[IMPRESSION_HEADER] or is_none(body[IMPRESSION_HEADER]):
        raise RewriteError("empty_impression")
    return ParsedRewrite({region: body[region] for region in REGIONS}, body[IMPRESSION_HEADER])
