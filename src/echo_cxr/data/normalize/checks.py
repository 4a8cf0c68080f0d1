"""Checks a parsed rewrite must pass before it replaces the original report.

- language: the rewrite is in the sample's language (release CJK rule);
- CheXpert-style labels (``echo_cxr.evaluation.metrics.chexpert_labeler``) of original and
  rewrite, per observation: a positive or uncertain finding must stay exactly so (nothing dropped
  or negated: ``finding_dropped``, ``finding_negated``; certainty kept: ``certainty_changed``),
  nothing may become positive or uncertain that was not (``finding_added``), a negated finding
  must not turn positive (``negation_flipped``) and, with ``keep_negatives``, must stay stated
  (``negation_dropped``). Observations the original does not mention may become negative: that is
  what stating an omitted region as normal does. "No Finding" is derived from the others and not
  compared on its own;
- Phantom CXR samples (a ``labels`` field, or a ``phantom-`` id) also keep the Phantom labeler's
  canonical labels exactly, attributes included (``phantom_labels_changed``).
- findings outside the 14 CheXpert observations (``EXTRA_TERMS``: hernia, granuloma, emphysema,
  scoliosis, sternotomy ...): asserted (not negated in their sentence) before <=> after
  (``term_added`` / ``term_dropped``);
- measurements (``4 cm``, ``3 mm``, ``2.5 厘米``): the same ones before and after
  (``measurement_changed``).
Structure (regions, order, impression) is checked by ``regions.parse_rewrite`` before this.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence

from echo_cxr.prompts import detect_language

POSITIVE, NEGATIVE, UNCERTAIN = 1, 0, -1
PRESENT = (POSITIVE, UNCERTAIN)
NO_FINDING = "No Finding"
EXTRA_TERMS = {
    "en": {"hernia": r"hernia", "granuloma": r"granulom", "calcification": r"calcifi", "emphysema": r"emphysema",
           "hyperinflation": r"hyperinflat|hyperexpan", "fibrosis": r"fibros|fibrotic", "scarring": r"scar",
           "bronchiectasis": r"bronchiectasis", "interstitial": r"interstitial", "scoliosis": r"scoliosis",
           "kyphosis": r"kyphosis", "osteopenia": r"osteopeni", "sternotomy": r"sternotomy", "surgical clips": r"clips?\b",
           "free air": r"free (?:intraperitoneal )?air|pneumoperitoneum", "tortuous aorta": r"tortu",
           "degenerative change": r"degenerative", "metastasis": r"metasta", "lymphadenopathy": r"lymphadenopathy"},
    "zh": {"疝": r"疝", "肉芽肿": r"肉芽肿", "钙化": r"钙化", "肺气肿": r"肺气肿", "纤维化": r"纤维", "支气管扩张": r"支气管扩张",
           "侧弯": r"侧弯", "胸骨切开": r"胸骨切开|胸骨术后", "游离气体": r"游离气体", "淋巴结肿大": r"淋巴结肿大", "转移": r"转移"},
}
NEGATION = {"en": re.compile(r"\b(?:no|not|without|negative for|free of|absence of|resolved)\b", re.I),
            "zh": re.compile(r"未见|无|没有|未|排除")}
RESET = {"en": re.compile(r"\b(?:but|however|although)\b", re.I), "zh": re.compile(r"但|然而")}
SENTENCES = {"en": re.compile(r"(?<=[.;!?])\s+|\n"), "zh": re.compile(r"[。；！？\n]")}
MEASUREMENT = re.compile(r"(\d+(?:\.\d+)?)\s*((?:mm|cm)\b|毫米|厘米)", re.I)


def chexpert_labels(texts: Sequence[str], language: str) -> list[dict]:
    from echo_cxr.evaluation.metrics.chexpert_labeler import label_reports

    return label_reports(list(texts), language)


def compare_chexpert(before: dict, after: dict, keep_negatives: bool = True) -> list[str]:
    """Problems between the labels of the original and of the rewrite (empty: they agree)."""
    problems = []
    for name in before:
        if name == NO_FINDING:
            continue
        old, new = before[name], after.get(name)
        if old == new or (old is None and new == NEGATIVE):
            continue
        if old in PRESENT and new is None:
            problems.append(f"finding_dropped: {name}")
        elif old in PRESENT and new == NEGATIVE:
            problems.append(f"finding_negated: {name}")
        elif old in PRESENT:
            problems.append(f"certainty_changed: {name}")
        elif old == NEGATIVE and new in PRESENT:
            problems.append(f"negation_flipped: {name}")
        elif old == NEGATIVE and keep_negatives:
            problems.append(f"negation_dropped: {name}")
        elif old is None and new in PRESENT:
            problems.append(f"finding_added: {name}")
    return problems


def _canonical(labels: list[dict]) -> set[str]:
    return {json.dumps(label, sort_keys=True) for label in labels}


def compare_phantom(before_text: str, after_text: str, language: str) -> list[str]:
    from echo_cxr.phantom.labeler import label_report

    old, new = _canonical(label_report(before_text, language)), _canonical(label_report(after_text, language))
    if old == new:
        return []
    added = sorted(json.loads(x)["finding"] for x in new - old)
    dropped = sorted(json.loads(x)["finding"] for x in old - new)
    return [f"phantom_labels_changed: added {added or 'none'}, dropped {dropped or 'none'}"]


def asserted_terms(text: str, language: str) -> set[str]:
    """Extra terms stated as present: a term counts unless a negation cue precedes it in its
    sentence (after the last "but")."""
    found = set()
    for sentence in SENTENCES[language].split(text):
        for name, pattern in EXTRA_TERMS[language].items():
            for match in re.finditer(pattern, sentence, re.I):
                head = sentence[:match.start()]
                resets = list(RESET[language].finditer(head))
                head = head[resets[-1].end():] if resets else head
                if not NEGATION[language].search(head):
                    found.add(name)
    return found


def compare_terms(before: str, after: str, language: str) -> list[str]:
    old, new = asserted_terms(before, language), asserted_terms(after, language)
    return [f"term_dropped: {t}" for t in sorted(old - new)] + [f"term_added: {t}" for t in sorted(new - old)]


def compare_measurements(before: str, after: str) -> list[str]:
    def measures(text: str) -> Counter:
        return Counter(f"{float(value):g} {unit.lower()}" for value, unit in MEASUREMENT.findall(text))

    old, new = measures(before), measures(after)
    if old == new:
        return []
    return [f"measurement_changed: {', '.join(sorted((old - new).elements())) or 'none'} -> "
            f"{', '.join(sorted((new - old).elements())) or 'none'}"]


def report_text(findings: str, impression: str) -> str:
    return f"{findings}\n{impression}".strip()


def language_problem(text: str, language: str) -> list[str]:
    found = detect_language(text)
    return [] if found == language else [f"wrong_language: {found} instead of {language}"]
