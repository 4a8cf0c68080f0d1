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
Structure (regions, order, impression) is checked by ``regions.parse_rewrite`` before this.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from echo_cxr.prompts import detect_language

POSITIVE, NEGATIVE, UNCERTAIN = 1, 0, -1
PRESENT = (POSITIVE, UNCERTAIN)
NO_FINDING = "No Finding"


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


def report_text(findings: str, impression: str) -> str:
    return f"{findings}\n{impression}".strip()


def language_problem(text: str, language: str) -> list[str]:
    found = detect_language(text)
    return [] if found == language else [f"wrong_language: {found} instead of {language}"]
