"""Report text: cutting the generated text and parsing Findings / Impression sections (EN and ZH).

Tolerant of "Finding:" / "Findings:" / "FINDINGS:", full-width colons, and of a missing section.
"""

from __future__ import annotations

import re

_COLON = r"\s*[:：]\s*"
_FINDINGS = re.compile(r"(?:findings?|所见)" + _COLON, re.IGNORECASE)
_IMPRESSION = re.compile(r"(?:impressions?|结论)" + _COLON, re.IGNORECASE)
_TRAILING = " \t\n,，.。;；"


def parse_sections(text: str) -> tuple[str, str]:
    """(findings, impression) of a report; text without headers counts as findings."""
    impression_match = _IMPRESSION.search(text)
    head = text[: impression_match.start()] if impression_match else text
    impression = text[impression_match.end() :] if impression_match else ""
    findings_match = _FINDINGS.search(head)
    findings = head[findings_match.end() :] if findings_match else head
    return findings.strip().rstrip(_TRAILING).strip(), impression.strip().rstrip(",，;；").strip()
