"""Fluency metric: adjacent repetition ("There There is is ..."), the stutter a block-diffusion
decoder shows when parallel positions pick the same word (the mean-field failure, METHOD.md
section 4, stage 3).

Scored on the report exactly as generated (section headers included, so a word repeated across
"Findings: ... Impression: ..." is separated by the header). Words: EN lower-cased runs of
letters and digits (as ``tokenize.en_words``); ZH jieba words (characters repeat legitimately
across Chinese words: 肋骨骨折). A repeat is a word equal to the word right before it with
nothing but spaces between: punctuation separates ("normal. Normal" is not a repeat). Per report: ``repetition_rate`` = repeats / tokens (0.0 for an empty
report) and ``repetition_affected`` = 1.0 when the report has any repeat. Corpus:
``repetition_share`` = all repeats / all tokens of the group (the share of words that repeat
their neighbour) and ``repetition_reports`` = share of reports with a repeat.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from echo_cxr.evaluation.metrics.base import MetricOutput, Pair
from echo_cxr.evaluation.metrics.tokenize import is_word, jieba_tokens

EN_TOKEN = re.compile(r"([a-z0-9]+)|[^\sa-z0-9]")  # group 1 = a word, else one punctuation mark
SEPARATOR = None  # stands for punctuation between words


def repetition_tokens(text: str, language: str) -> list[str | None]:
    """Words of ``text`` in order, ``None`` where punctuation separates them."""
    if language == "en":
        return [match.group(1) or SEPARATOR for match in EN_TOKEN.finditer(text.lower())]
    return [token.lower() if is_word(token) else SEPARATOR for token in jieba_tokens(text) if token.strip()]


def adjacent_repeats(tokens: Sequence[str | None]) -> int:
    """How many words equal the word right before them (a separator between breaks the pair)."""
    return sum(1 for before, token in zip(tokens, tokens[1:]) if token is not SEPARATOR and token == before)


def word_count(tokens: Sequence[str | None]) -> int:
    return sum(token is not SEPARATOR for token in tokens)


def repetition(pairs: Sequence[Pair], language: str, context=None) -> MetricOutput:
    """Adjacent-repetition rate per report and pooled over the group (generated text only)."""
    rates, affected, repeats, total = [], [], 0, 0
    for pair in pairs:
        tokens = repetition_tokens(pair.raw_hyp, pair.language)
        count, words = adjacent_repeats(tokens), word_count(tokens)
        rates.append(count / words if words else 0.0)
        affected.append(float(count > 0))
        repeats, total = repeats + count, total + words
    corpus = {"repetition_share": repeats / total if total else 0.0,
              "repetition_reports": sum(affected) / len(affected) if affected else 0.0}
    return MetricOutput(per_sample={"repetition_rate": rates, "repetition_affected": affected}, corpus=corpus,
                        details={"repetition_repeats": repeats, "repetition_tokens": total})
