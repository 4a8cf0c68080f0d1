"""Cue words of the report labeler, EN and ZH: findings, negation, sides, severities, zones.

Written independently of the phrasebooks (the labeler must also read text that no phrasebook
produced: model outputs, hand-written reports), but checked against every phrasebook paraphrase
by the round-trip tests. Patterns are case-insensitive; EN patterns use word boundaries so that
"endotracheal" is not "trachea" and "perihilar" is not "hilar".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Cue = tuple[re.Pattern, str]  # pattern -> attribute value


def _p(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.IGNORECASE)


def _cues(*pairs: tuple[str, str]) -> tuple[Cue, ...]:
    return tuple((_p(pattern), value) for pattern, value in pairs)


@dataclass(frozen=True)
class Lexicon:
    """Everything the labeler needs to read one language."""

    lang: str
    sentence_split: re.Pattern
    negation: re.Pattern
    reset: re.Pattern  # contrastive words that end a negation's scope ("but")
    findings: dict[str, tuple[re.Pattern, ...]]
    sides: tuple[Cue, ...]
    bilateral: re.Pattern
    severity: dict[str, tuple[Cue, ...]]
    levels: tuple[Cue, ...]
    sizes: tuple[Cue, ...]


HEADERS = _p(r"(?:findings?|impressions?|conclusions?|所见|结论|印象)\s*[:：]")

_EN_GAP = r"(?:\W+\w+){0,4}?\W+"  # up to four words in between
_EN_SHORT_GAP = r"(?:\W+\w+){0,3}?\W+"
_EN_ENLARGED = r"(?:enlarge\w*|prominen\w*|bulky)"
_EN_HILUM = r"\bhil(?:a|ar|um|i)\b"
_EN_MOVED = r"(?:deviat|shift|displac)\w*"
_EN_RAISED = r"(?:elevat\w*|raised)"
_EN_DIAPHRAGM = r"(?:hemi)?diaphragm\w*"

EN = Lexicon(
    lang="en",
    sentence_split=re.compile(r"(?<!\d)[.;!?\n。；！？]+|[.;](?=\s)"),
    negation=_p(r"\b(?:no|not|without|negative for|free of|absence of|absent|neither|nor)\b"),
    reset=_p(r"\b(?:but|however|although|though|whereas|except)\b"),
    findings={
        "pneumothorax": (_p(r"\bpneumothora(?:x|ces)\b"),),
        "tracheal_deviation": (_p(r"\btrache\w*" + _EN_GAP + _EN_MOVED),
                               _p(r"\b" + _EN_MOVED + _EN_SHORT_GAP + r"trache\w*")),
        "consolidation": (_p(r"\bconsolidat\w*"),),
        "nodule": (_p(r"\bnodul\w*"), _p(r"\bmass(?:es)?\b")),
        "atelectasis": (_p(r"\batelecta\w*"),),
        "pulmonary_edema": (_p(r"\bo?edema(?:tous)?\b"),),
        "cardiomegaly": (_p(r"\bcardiomegaly\b"),
                         _p(r"\b(?:heart|cardiac)\b" + _EN_GAP + r"enlarge\w*"),
                         _p(r"\benlarge\w*" + _EN_SHORT_GAP + r"(?:heart|cardiac)\b")),
        "hilar_enlargement": (_p(_EN_HILUM + _EN_GAP + _EN_ENLARGED),
                              _p(r"\b" + _EN_ENLARGED + _EN_SHORT_GAP + _EN_HILUM)),
        "pleural_effusion": (_p(r"\beffusions?\b"),),
        "elevated_hemidiaphragm": (_p(r"\b" + _EN_RAISED + _EN_SHORT_GAP + _EN_DIAPHRAGM),
                                   _p(r"\b" + _EN_DIAPHRAGM + _EN_GAP + _EN_RAISED)),
        "rib_fracture": (_p(r"\bfractur\w*"),),
        "endotracheal_tube": (_p(r"\bendotracheal\b|\bET tube\b|\bETT\b"),),
        "nasogastric_tube": (_p(r"\bnasogastric\b|\bNG tube\b|\benteric tube\b"),),
        "central_venous_catheter": (_p(r"\bcentral (?:venous )?(?:catheter|line)s?\b|\bCVC\b"),),
        "pacemaker": (_p(r"\bpacemakers?\b|\bpacing device\b|\bpacer\b"),),
    },
    sides=_cues((r"\bright(?:ward)?\b", "right"), (r"\bleft(?:ward)?\b", "left")),
    bilateral=_p(r"\b(?:bilateral(?:ly)?|both)\b"),
    severity={
        "cardiomegaly": _cues((r"\b(?:mild|mildly|slight|slightly)\b", "mild"),
                              (r"\bmoderate(?:ly)?\b", "moderate"),
                              (r"\b(?:marked|markedly|severe|severely|massive)\b", "marked")),
        "pleural_effusion": _cues((r"\b(?:small|trace|tiny)\b", "small"),
                                  (r"\bmoderate\b", "moderate"),
                                  (r"\b(?:large|massive)\b", "large")),
        "pneumothorax": _cues((r"\b(?:small|tiny)\b", "small"), (r"\blarge\b", "large")),
        "pulmonary_edema": _cues((r"\bmild(?:ly)?\b", "mild"),
                                 (r"\bmoderate(?:ly)?\b", "moderate")),
    },
    levels=_cues((r"\b(?:upper|apical|apex)\b", "upper"), (r"\b(?:middle|mid)\b", "middle"),
                 (r"\b(?:lower|base|basal|basilar)\b", "lower")),
    sizes=_cues((r"\bnodul\w*", "small"), (r"\bmass(?:es)?\b", "large")),
)

_ZH_CLAUSE = r"[^。；;，,]"

ZH = Lexicon(
    lang="zh",
    sentence_split=re.compile(r"[。；;！!？?\n]+|\.(?=\s|$)"),
    negation=re.compile(r"未见|未|无|没有|排除|不伴|否认"),
    reset=re.compile(r"但|然而|不过"),
    findings={
        "pneumothorax": (re.compile(r"气胸"),),
        "tracheal_deviation": (re.compile(r"气管(?!插管|内插管)" + _ZH_CLAUSE + r"{0,6}?(?:偏|移位)"),),
        "consolidation": (re.compile(r"实变"),),
        "nodule": (re.compile(r"结节|肿块|占位"),),
        "atelectasis": (re.compile(r"不张"),),
        "pulmonary_edema": (re.compile(r"水肿"),),
        "cardiomegaly": (re.compile(r"心(?:影|脏)" + _ZH_CLAUSE + r"{0,4}?(?:增大|扩大)"),),
        "hilar_enlargement": (re.compile(r"肺门" + _ZH_CLAUSE + r"{0,4}?(?:增大|扩大|增浓)"),),
        "pleural_effusion": (re.compile(r"积液"),),
        "elevated_hemidiaphragm": (re.compile(r"膈" + _ZH_CLAUSE + r"{0,4}?(?:抬高|升高)"),),
        "rib_fracture": (re.compile(r"骨折"),),
        "endotracheal_tube": (re.compile(r"插管"),),
        "nasogastric_tube": (re.compile(r"胃管"),),
        "central_venous_catheter": (re.compile(r"(?:中心|深)静脉(?:导管|置管)"),),
        "pacemaker": (re.compile(r"起搏器"),),
    },
    sides=((re.compile(r"右"), "right"), (re.compile(r"左"), "left")),
    bilateral=re.compile(r"双|两侧|两肺"),
    severity={
        "cardiomegaly": ((re.compile(r"轻度|轻微"), "mild"), (re.compile(r"中度"), "moderate"),
                         (re.compile(r"重度|明显|显著"), "marked")),
        "pleural_effusion": ((re.compile(r"少量"), "small"), (re.compile(r"中等量|中量"), "moderate"),
                             (re.compile(r"大量"), "large")),
        "pneumothorax": ((re.compile(r"少量"), "small"), (re.compile(r"大量"), "large")),
        "pulmonary_edema": ((re.compile(r"轻度"), "mild"), (re.compile(r"中度"), "moderate")),
    },
    levels=((re.compile(r"上|尖"), "upper"), (re.compile(r"中(?!等|量|心)"), "middle"),
            (re.compile(r"下|底"), "lower")),
    sizes=((re.compile(r"结节"), "small"), (re.compile(r"肿块|占位"), "large")),
)

LEXICONS: dict[str, Lexicon] = {"en": EN, "zh": ZH}
