"""An offline, rule-based CheXpert-style labeler: 14 observations, each positive / negative /
uncertain / not mentioned, from EN or ZH report text.

Mentions are the regular expressions curated in ``phrases/chexpert.json`` (medspacy
``TargetRule`` patterns); medspacy's ConText decides whether a mention is negated or uncertain
(EN: its default rules plus the radiology cues under ``context_en``; ZH: a character-tokenised
spaCy pipeline with the cues under ``context_zh``, clauses split at commas so that a cue does not
reach across them). Phrases listed as
``negative`` (e.g. "heart size is normal") are negative mentions. Per observation the CheXpert
precedence applies: positive > uncertain > negative > not mentioned. "No Finding" is positive when
no pathology (every observation but No Finding and Support Devices) is positive or uncertain.
Labels use CheXpert's values: 1 positive, 0 negative, -1 uncertain, None not mentioned.

This is not the Stanford CheXpert labeler (NegBio parsing, its phrase lists); it is a transparent
approximation whose phrases live in the repository. See docs/evaluation.md.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

from echo_cxr.errors import EchoError

POSITIVE, NEGATIVE, UNCERTAIN = 1, 0, -1
PHRASE_FILE = "chexpert.json"
NO_FINDING = "No Finding"
NEGATED_ATTR, UNCERTAIN_ATTRS = "is_negated", ("is_uncertain", "is_hypothetical")
CONTEXT_CATEGORIES = {
    "negation_forward": ("NEGATED_EXISTENCE", "FORWARD"),
    "negation_backward": ("NEGATED_EXISTENCE", "BACKWARD"),
    "uncertainty_forward": ("POSSIBLE_EXISTENCE", "FORWARD"),
    "uncertainty_backward": ("POSSIBLE_EXISTENCE", "BACKWARD"),
    "termination": ("TERMINATE", "TERMINATE"),
}


@lru_cache(maxsize=1)
def phrases() -> dict:
    """The curated phrase file."""
    text = resources.files("echo_cxr.evaluation.metrics").joinpath("phrases").joinpath(PHRASE_FILE).read_text("utf-8")
    return json.loads(text)


def observations() -> list[str]:
    return list(phrases()["observations"])


def top5() -> list[str]:
    return list(phrases()["top5"])


def _target_rules(language: str) -> list:
    from medspacy.ner import TargetRule

    rules = []
    for observation, entry in phrases()[language].items():
        rules += [TargetRule(observation, observation, pattern=p) for p in entry["mention"]]
        rules += [TargetRule(observation, observation, pattern=p, attributes={NEGATED_ATTR: True})
                  for p in entry.get("negative", [])]
    return rules


def _context_rules(cues: dict) -> list:
    from medspacy.context import ConTextRule

    return [ConTextRule(cue, category, direction=direction)
            for key, (category, direction) in CONTEXT_CATEGORIES.items() for cue in cues.get(key, [])]


def _zh_pipeline():
    import spacy

    cues = phrases()["context_zh"]
    nlp = spacy.blank("zh")  # character segmentation: needs no model download
    nlp.add_pipe("sentencizer", config={"punct_chars": cues["sentence_ends"]})
    nlp.add_pipe("medspacy_target_matcher").add(_target_rules("zh"))
    context = nlp.add_pipe("medspacy_context", config={"rules": None})
    context.add(_context_rules(cues))
    return nlp


def silence_pyrush() -> None:
    """PyRuSH (medspacy's sentence splitter) logs every sentence boundary at DEBUG level through
    loguru; turn off that library's loguru output (its own logger name only)."""
    from loguru import logger

    logger.disable("PyRuSH")


def _en_pipeline():
    import medspacy

    silence_pyrush()
    nlp = medspacy.load(medspacy_enable=["medspacy_pyrush", "medspacy_target_matcher", "medspacy_context"])
    nlp.get_pipe("medspacy_target_matcher").add(_target_rules("en"))
    nlp.get_pipe("medspacy_context").add(_context_rules(phrases()["context_en"]))
    return nlp


@lru_cache(maxsize=2)
def pipeline(language: str):
    """The medspacy pipeline of ``language`` (built once; a few seconds)."""
    if language == "en":
        return _en_pipeline()
    if language == "zh":
        return _zh_pipeline()
    raise EchoError(f"the CheXpert labeler has no rules for language {language!r}")


def _mention_state(ent) -> int:
    if getattr(ent._, NEGATED_ATTR):
        return NEGATIVE
    if any(getattr(ent._, attr) for attr in UNCERTAIN_ATTRS):
        return UNCERTAIN
    return POSITIVE


def combine(states: Sequence[int]) -> int | None:
    """CheXpert precedence over one observation's mentions."""
    for state in (POSITIVE, UNCERTAIN, NEGATIVE):
        if state in states:
            return state
    return None


def _labels_of(doc) -> dict[str, int | None]:
    found: dict[str, list[int]] = {}
    for ent in doc.ents:
        found.setdefault(ent.label_, []).append(_mention_state(ent))
    labels = {name: combine(found.get(name, [])) for name in observations()}
    pathologies = [n for n in observations() if n not in phrases()["not_pathology"]]
    labels[NO_FINDING] = POSITIVE if all(labels[n] not in (POSITIVE, UNCERTAIN) for n in pathologies) else None
    return labels


def label_reports(texts: Sequence[str], language: str) -> list[dict[str, int | None]]:
    """CheXpert-style labels of each text (all in ``language``)."""
    nlp = pipeline(language)
    with warnings.catch_warnings():  # medspacy's token Matcher is empty (all our rules are regexes): W036
        warnings.filterwarnings("ignore", message=r"\[W036\]")
        return [_labels_of(doc) for doc in nlp.pipe(list(texts))]
