"""The metric registry: metrics chosen by name (or by group name), each a small function whose
backend (rouge-score, pycocoevalcap, nltk, medspacy, transformers...) is imported when it runs.

Groups: ``lexical`` (bleu, rouge, meteor, cider_d), ``release`` (release_rouge, release_meteor),
``clinical`` (chexpert, phantom), ``fluency`` (repetition), ``model`` (ratescore, ratescore_positive, semscore,
perplexity); ``all`` = every metric. Default: lexical + release + clinical + fluency.
"""

from __future__ import annotations

from collections.abc import Iterable

from echo_cxr.errors import EchoError
from echo_cxr.evaluation.metrics import clinical, fluency, lexical, model_based, release
from echo_cxr.evaluation.metrics.base import Metric, MetricOutput, NotComputed, Pair
from echo_cxr.evaluation.metrics.context import MetricContext, ModelSettings

_ALL = (
    Metric("bleu", "lexical", lexical.bleu, "BLEU-1..4 (pycocoevalcap), sentence and corpus", corpus_dependent=True),
    Metric("rouge", "lexical", lexical.rouge, "ROUGE-1/2/L F1 (EN rouge-score, ZH rouge-chinese on jieba words)"),
    Metric("meteor", "lexical", lexical.meteor, "METEOR (nltk, WordNet) on word tokens"),
    Metric("cider_d", "lexical", lexical.cider_d, "CIDEr-D (pycocoevalcap), DF from the scored references",
           corpus_dependent=True, percent=False),
    Metric("release_rouge", "release", release.release_rouge, "release ROUGE-1/2/L (rouge / rouge-chinese packages)"),
    Metric("release_meteor", "release", release.release_meteor, "release METEOR tokenisation (nltk)"),
    Metric("chexpert", "clinical", clinical.chexpert, "CheXpert-label F1 (rule-based labeler)",
           corpus_dependent=True, poolable=True),
    Metric("phantom", "clinical", clinical.phantom, "Phantom CXR label scores (records with labels)",
           corpus_dependent=True, poolable=True),
    Metric("repetition", "fluency", fluency.repetition,
           "adjacent repeated words (EN) / characters (ZH): per-report rate, pooled share, reports affected",
           corpus_dependent=True, poolable=True),
    Metric("ratescore", "model", model_based.ratescore, "RaTEScore, stock"),
    Metric("ratescore_positive", "model", model_based.ratescore_positive, "RaTEScore, release positive-findings variant"),
    Metric("semscore", "model", model_based.semscore, "SemScore: CLS cosine under a CheXbert-style BERT"),
    Metric("perplexity", "model", model_based.perplexity, "perplexity under a judge causal LM", percent=False),
)
METRICS: dict[str, Metric] = {metric.name: metric for metric in _ALL}
GROUPS: dict[str, tuple[str, ...]] = {}
for _metric in _ALL:
    GROUPS.setdefault(_metric.group, ())
    GROUPS[_metric.group] += (_metric.name,)
GROUPS["all"] = tuple(METRICS)
DEFAULT_METRICS = ("lexical", "release", "clinical", "fluency")


def resolve(names: Iterable[str]) -> list[Metric]:
    """Metrics for metric and group names (comma-separated items allowed), in registry order."""
    wanted: set[str] = set()
    for item in names:
        for name in (part.strip() for part in item.split(",")):
            if not name:
                continue
            if name in GROUPS:
                wanted.update(GROUPS[name])
            elif name in METRICS:
                wanted.add(name)
            else:
                raise EchoError(f"unknown metric {name!r}; choose from {', '.join(METRICS)} "
                                f"or the groups {', '.join(GROUPS)}")
    if not wanted:
        raise EchoError("no metric selected")
    return [metric for metric in _ALL if metric.name in wanted]


__all__ = ["DEFAULT_METRICS", "GROUPS", "METRICS", "Metric", "MetricContext", "MetricOutput", "ModelSettings",
           "NotComputed", "Pair", "resolve"]
