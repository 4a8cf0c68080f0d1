"""Lexical metrics on word tokens (``tokenize.words``), computed by well-kept libraries:

- BLEU-1..4: pycocoevalcap's ``BleuScorer`` (COCO caption BLEU, "closest" reference length);
  per-sample sentence BLEU and corpus BLEU (``bleu_N_corpus``).
- ROUGE-1/2/L F1: EN rouge-score (``RougeScorer``, n-gram multisets, sentence-level LCS); ZH
  rouge-chinese on jieba words (its n-gram counts use unique n-grams; LCS over the whole text).
- METEOR: nltk ``single_meteor_score`` (exact, Porter-stem and WordNet-synonym matching; WordNet
  from ``scripts/setup-eval.sh``).
- CIDEr-D: pycocoevalcap's ``CiderScorer`` (n = 1..4, sigma = 6, clipped, x10) with document
  frequencies from the references scored together (per language group).
Each function maps (hypotheses, references, language) to a ``MetricOutput``.
"""

from __future__ import annotations

from collections.abc import Sequence

from echo_cxr.evaluation.metrics.base import MetricOutput, NotComputed, Pair
from echo_cxr.evaluation.metrics.tokenize import words

BLEU_ORDER = 4
CIDER_ORDER = 4
CIDER_SIGMA = 6.0
ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")
ROUGE_NAMES = {"rouge1": "rouge_1", "rouge2": "rouge_2", "rougeL": "rouge_l"}
ZH_ROUGE_NAMES = {"rouge-1": "rouge_1", "rouge-2": "rouge_2", "rouge-l": "rouge_l"}


def _joined(texts: Sequence[str], language: str) -> list[str]:
    return [" ".join(words(text, language)) for text in texts]


def bleu(pairs: Sequence[Pair], language: str, context=None) -> MetricOutput:
    """Sentence and corpus BLEU-1..4."""
    from pycocoevalcap.bleu.bleu_scorer import BleuScorer

    scorer = BleuScorer(n=BLEU_ORDER)
    for hyp, ref in zip(_joined([p.hyp for p in pairs], language), _joined([p.ref for p in pairs], language)):
        scorer += (hyp, [ref])
    corpus, per_sample = scorer.compute_score(option="closest", verbose=0)
    out = MetricOutput()
    for n in range(BLEU_ORDER):
        out.per_sample[f"bleu_{n + 1}"] = [float(v) for v in per_sample[n]]
        out.corpus[f"bleu_{n + 1}_corpus"] = float(corpus[n])
    return out


class _WordTokenizer:
    """rouge-score tokenizer interface over ``tokenize.words``."""

    def __init__(self, language: str) -> None:
        self.language = language

    def tokenize(self, text: str) -> list[str]:
        return words(text, self.language)


def rouge(pairs: Sequence[Pair], language: str, context=None) -> MetricOutput:
    """ROUGE-1/2/L F1 per sample."""
    out = MetricOutput(per_sample={name: [] for name in ROUGE_NAMES.values()})
    if language == "zh":
        from rouge_chinese import Rouge

        scorer = Rouge()
        for hyp, ref in zip(_joined([p.hyp for p in pairs], language), _joined([p.ref for p in pairs], language)):
            scores = scorer.get_scores(hyp, ref)[0] if hyp and ref else None  # the package refuses empties
            for key, name in ZH_ROUGE_NAMES.items():
                out.per_sample[name].append(scores[key]["f"] if scores else 0.0)
        return out
    from rouge_score.rouge_scorer import RougeScorer

    scorer = RougeScorer(list(ROUGE_TYPES), tokenizer=_WordTokenizer(language))
    for pair in pairs:
        scores = scorer.score(pair.ref, pair.hyp)  # (target, prediction)
        for key, name in ROUGE_NAMES.items():
            out.per_sample[name].append(float(scores[key].fmeasure))
    return out


def wordnet():
    """nltk's WordNet reader, or a clear error saying how to install it offline."""
    import nltk
    from nltk.corpus import wordnet as reader

    try:
        nltk.data.find("corpora/wordnet")
    except LookupError:
        raise NotComputed("WordNet for METEOR is not installed; run scripts/setup-eval.sh (Debian wordnet-base + "
                        "wordnet-sense-index into .venv/nltk_data) or set NLTK_DATA to a folder holding "
                        "corpora/wordnet") from None
    return reader


def meteor(pairs: Sequence[Pair], language: str, context=None) -> MetricOutput:
    """METEOR on word tokens."""
    from nltk.translate.meteor_score import single_meteor_score

    reader = wordnet()
    values = [single_meteor_score(words(p.ref, language), words(p.hyp, language), wordnet=reader) for p in pairs]
    return MetricOutput(per_sample={"meteor": values})


def cider_d(pairs: Sequence[Pair], language: str, context=None) -> MetricOutput:
    """CIDEr-D per sample (its mean is pycocoevalcap's corpus CIDEr-D)."""
    from pycocoevalcap.cider.cider_scorer import CiderScorer

    hyps, refs = _joined([p.hyp for p in pairs], language), _joined([p.ref for p in pairs], language)
    if not any(refs):
        return MetricOutput.skipped("every reference is empty (no document frequencies)")
    scorer = CiderScorer(n=CIDER_ORDER, sigma=CIDER_SIGMA)
    for hyp, ref in zip(hyps, refs):
        scorer += (hyp, [ref])
    _, per_sample = scorer.compute_score()
    return MetricOutput(per_sample={"cider_d": [float(v) for v in per_sample]})
