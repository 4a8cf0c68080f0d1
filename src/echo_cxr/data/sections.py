"""Free-text radiology reports -> Findings and Impression sections (MIMIC-CXR reports, and the
``report`` fallback of other datasets).

Reports are a sequence of headed sections (``FINDINGS:``, ``IMPRESSION:``, ``INDICATION:`` ...).
A heading is recognised
- at the start of a line: an upper-case heading ending in ``:`` (``PA AND LATERAL CHEST:``), a
  known heading in any case (``Findings:``), or a known heading alone on its line (no colon);
- inside a line: a known heading in upper case or title case followed by ``:`` (reports that run
  ``... COMPARISON: None. FINDINGS: ...`` on one line).
Known headings are mapped to findings / impression / other: synonyms (``conclusion``, ``findings and
impression`` -> impression, as the MIMIC-CXR authors' section parser does), misspellings within
an edit ratio of ``FUZZY_CUTOFF`` (``IMPRESSON``), and exam descriptions (``PA AND LATERAL VIEWS``
-> findings). Any other upper-case "HEADING:" is a sub-heading and stays in the text of its
section (``LUNGS: clear.`` inside the findings). Chinese headings (所见 / 结论 ...) work the same way. A section that occurs more
than once (duplicated headings) is the concatenation of its distinct non-empty bodies, in order.
Text before the first heading and under other headings is ignored; a report without a findings
or impression heading yields two empty sections (the converter then drops it).
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata

FINDINGS, IMPRESSION, OTHER = "findings", "impression", "other"
FUZZY_CUTOFF = 0.85
MAX_HEADING_CHARS = 60

_ALIASES = {
    FINDINGS: ("findings", "finding", "findngs", "report findings", "reference findings", "所见", "影像所见",
               "检查所见", "表现", "影像表现"),
    IMPRESSION: ("impression", "impressions", "conclusion", "conclusions", "findings and impression",
                 "findings/impression", "findings / impression", "impression and findings", "opinion",
                 "结论", "印象", "诊断", "影像诊断", "诊断意见", "检查结论"),
    OTHER: ("examination", "exam", "type of examination", "indication", "indications", "clinical indication",
            "reason for exam", "reason for examination", "history", "clinical history", "clinical information",
            "patient history", "comparison", "comparisons", "comparison exam", "technique", "procedure",
            "wet read", "wetread", "addendum", "notification", "recommendation", "recommendations",
            "recommendation(s)", "final report", "note", "date", "comment", "comments", "preamble",
            "end of impression", "summary", "narrative", "accession number", "procedure comments",
            "病史", "临床诊断", "检查方法", "检查部位", "比较"),
}
_KIND_OF = {alias: kind for kind, aliases in _ALIASES.items() for alias in aliases}
# headings that describe the exam itself hold the findings (MIMIC-CXR: "PA AND LATERAL VIEWS OF THE CHEST:")
_EXAM_DESCRIPTION = re.compile(r"\b(chest|portable|pa and lat|ap and lat|lateral and pa|frontal|two views|"
                               r"one view|single view|pa view|ap view|lateral view|upright|semi-upright|supine)\b")
_KNOWN = sorted(_KIND_OF, key=len, reverse=True)
_KNOWN_ALT = "|".join(re.escape(a) for a in _KNOWN)
_COLON = r"[:：]"
_LINE_HEADING = re.compile(
    rf"^[ \t*#_>-]*(?P<h>[A-Z][A-Z0-9 ()/,&'.-]{{1,{MAX_HEADING_CHARS}}}|(?i:{_KNOWN_ALT}))[ \t*_]*{_COLON}",
    re.MULTILINE)
_BARE_HEADING = re.compile(rf"^[ \t*#_>-]*(?P<h>(?i:{_KNOWN_ALT}))[ \t*_]*$", re.MULTILINE)
_INLINE_OTHER = ("indication", "comparison", "history", "clinical history", "technique", "examination",
                 "recommendation(s)", "recommendations", "notification", "addendum", "wet read")


def _inline_alternatives() -> str:
    """Known headings as they are written inside a line: findings / impression headings in upper or
    capitalised case, a few unambiguous other headings in upper case only (so that a sentence such
    as "Note: ..." inside the findings is not cut)."""
    variants = set()
    for alias, kind in _KIND_OF.items():
        if kind in (FINDINGS, IMPRESSION):
            variants |= {alias.upper(), alias.capitalize(), alias.title()}
    variants |= {alias.upper() for alias in _INLINE_OTHER}
    return "|".join(re.escape(v) for v in sorted(variants, key=len, reverse=True))


_INLINE_HEADING = re.compile(rf"(?<![\w])(?P<h>{_inline_alternatives()})[ \t]*{_COLON}")
_EMPTY_VALUES = {"", "nan", "none", "null", "n/a", "na", "-"}


def clean_text(value) -> str:
    """A report field as one line of text: NFC, whitespace runs collapsed, placeholders -> ''.

    ``None``, float NaN and the strings ``nan`` / ``None`` / ``N/A`` (what CSV and pandas exports
    write for a missing section) count as empty.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = unicodedata.normalize("NFC", str(value)).replace("\u00a0", " ")
    text = " ".join(text.split())
    return "" if text.lower().rstrip(".") in _EMPTY_VALUES else text


def heading_kind(heading: str) -> str | None:
    """findings / impression / other for a known heading (any case); None for anything else, which
    is then not a section break but part of the text (sub-headings such as ``LUNGS:`` inside the
    findings)."""
    name = " ".join(heading.lower().replace("_", " ").split()).strip(" .*#")
    if name in _KIND_OF:
        return _KIND_OF[name]
    if IMPRESSION in name or name.startswith("impres"):
        return IMPRESSION
    if FINDINGS in name:
        return FINDINGS
    close = difflib.get_close_matches(name, _KNOWN, n=1, cutoff=FUZZY_CUTOFF)
    if close:
        return _KIND_OF[close[0]]
    return FINDINGS if _EXAM_DESCRIPTION.search(name) else None


def _headings(text: str) -> list[tuple[int, int, str]]:
    """(start, end, heading text) of every heading, in order, overlaps removed."""
    found = []
    for pattern in (_LINE_HEADING, _BARE_HEADING, _INLINE_HEADING):
        found += [(m.start("h"), m.end(), m.group("h")) for m in pattern.finditer(text)]
    found.sort(key=lambda item: (item[0], -item[1]))
    kept: list[tuple[int, int, str]] = []
    for start, end, heading in found:
        if (kept and start < kept[-1][1]) or heading_kind(heading) is None:
            continue
        kept.append((start, end, heading))
    return kept


def split_sections(text: str) -> list[tuple[str, str]]:
    """(kind, body) for every headed section, in order; text before the first heading is dropped."""
    marks = _headings(text)
    sections = []
    for index, (_, end, heading) in enumerate(marks):
        stop = marks[index + 1][0] if index + 1 < len(marks) else len(text)
        sections.append((heading_kind(heading), clean_text(text[end:stop])))
    return sections


def findings_and_impression(text: str) -> tuple[str, str]:
    """The Findings and Impression of a free-text report ('' for an absent section)."""
    parts: dict[str, list[str]] = {FINDINGS: [], IMPRESSION: []}
    for kind, body in split_sections(text or ""):
        if kind in parts and body and body not in parts[kind]:
            parts[kind].append(body)
    return " ".join(parts[FINDINGS]), " ".join(parts[IMPRESSION])
