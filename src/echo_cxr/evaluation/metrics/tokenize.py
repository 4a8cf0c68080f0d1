"""Word tokens for lexical metrics (EN words, ZH jieba words) and the release's tokenisations.

- EN word tokens: lower-cased runs of ASCII letters and digits (``[a-z0-9]+``), punctuation
  dropped - the same rule as rouge-score's default tokenizer (without stemming).
- ZH word tokens: jieba's default segmentation (HMM on), tokens made only of punctuation or
  spaces dropped, Latin letters lower-cased.
- Release METEOR tokens (METHOD.md section 6): EN ``text.lower().replace(".", " .").split()``;
  ZH jieba tokens as they come (punctuation kept).
- Release ZH ROUGE input: jieba tokens of the raw string joined by single spaces.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache

from echo_cxr.errors import EchoError

EN_WORD = re.compile(r"[a-z0-9]+")
PUNCTUATION_CATEGORIES = ("P", "S", "Z", "C")  # unicode categories of tokens that are not words


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)  # jieba's own logger; keeps "Building prefix dict" off stderr
    jieba.initialize()
    return jieba


def jieba_tokens(text: str) -> list[str]:
    """jieba's default segmentation, every token kept (spaces included as jieba returns them)."""
    return _jieba().lcut(text)


def is_word(token: str) -> bool:
    """A token with at least one letter or digit (not only punctuation, symbols or spaces)."""
    return any(unicodedata.category(ch)[0] not in PUNCTUATION_CATEGORIES for ch in token)


def en_words(text: str) -> list[str]:
    return EN_WORD.findall(text.lower())


def zh_words(text: str) -> list[str]:
    return [token.strip().lower() for token in jieba_tokens(text) if is_word(token)]


def words(text: str, language: str) -> list[str]:
    """Word tokens of ``text`` for lexical metrics."""
    if language == "en":
        return en_words(text)
    if language == "zh":
        return zh_words(text)
    raise EchoError(f"no tokenizer for language {language!r}")


def release_meteor_tokens(text: str, language: str) -> list[str]:
    """Tokens the release feeds to nltk's METEOR."""
    if language == "zh":
        return [t for t in jieba_tokens(text) if t.strip()]
    return text.lower().replace(".", " .").split()


def release_zh_rouge_text(text: str) -> str:
    """The release's rouge-chinese input: jieba tokens joined by spaces."""
    return " ".join(jieba_tokens(text))
