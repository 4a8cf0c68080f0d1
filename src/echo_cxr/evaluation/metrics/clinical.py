"""Clinical metrics: CheXpert-label F1 from the rule-based labeler, and Phantom CXR label scores.

CheXpert-label F1: generated and reference texts are both labelled (``chexpert_labeler``); an
observation counts as present when its label is positive, or uncertain (uncertain-as-positive,
the "U-ones" convention; ``uncertain_positive=False`` counts only positives). Micro F1 pools the
true/false positives of the observations; macro F1 averages per-observation F1, an observation
with no positive in either list scoring 0 (scikit-learn's ``zero_division=0``). Reported over the
14 observations and over the 5 competition ones (Atelectasis, Cardiomegaly, Consolidation,
Edema, Pleural Effusion).

Phantom CXR: when records carry the data set's ``labels`` (structured truth), the generated
reports are read back with ``echo_cxr.phantom.label_report`` and compared with
``echo_cxr.phantom.clinical_scores`` (per-finding and micro/macro F1, attribute accuracy,
hallucinated / omitted findings per report).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from echo_cxr.evaluation.metrics.base import MetricOutput, Pair
from echo_cxr.evaluation.metrics.chexpert_labeler import POSITIVE, UNCERTAIN, label_reports, observations, top5

PHANTOM_KEYS = ("micro_f1", "macro_f1", "micro_precision", "micro_recall", "attribute_accuracy",
                "hallucinated_per_report", "omitted_per_report")


def _present(label: int | None, uncertain_positive: bool) -> bool:
    return label == POSITIVE or (uncertain_positive and label == UNCERTAIN)


def label_f1(pred: Sequence[Mapping[str, int | None]], true: Sequence[Mapping[str, int | None]],
             names: Sequence[str], uncertain_positive: bool = True) -> dict:
    """Per-observation, micro and macro F1 of binary presence over ``names``."""
    per: dict[str, dict] = {}
    for name in names:
        tp = fp = fn = 0
        for p, t in zip(pred, true):
            hit, truth = _present(p.get(name), uncertain_positive), _present(t.get(name), uncertain_positive)
            tp += hit and truth
            fp += hit and not truth
            fn += truth and not hit
        denominator = 2 * tp + fp + fn
        per[name] = {"f1": 2 * tp / denominator if denominator else 0.0, "tp": tp, "fp": fp, "fn": fn,
                     "support": tp + fn}
    tp, fp, fn = (sum(v[k] for v in per.values()) for k in ("tp", "fp", "fn"))
    micro = 2 * tp / (2 * tp + fp + fn) if (2 * tp + fp + fn) else 0.0
    macro = sum(v["f1"] for v in per.values()) / len(per) if per else 0.0
    return {"micro_f1": micro, "macro_f1": macro, "per_observation": per}


def _language_groups(pairs: Sequence[Pair]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for index, pair in enumerate(pairs):
        groups.setdefault(pair.language, []).append(index)
    return groups


def chexpert_labels(texts: Sequence[str], languages: Sequence[str]) -> list[dict]:
    """Labels of texts in mixed languages, in order."""
    out: list[dict] = [{} for _ in texts]
    for language in sorted(set(languages)):
        indices = [i for i, lang in enumerate(languages) if lang == language]
        for index, labels in zip(indices, label_reports([texts[i] for i in indices], language)):
            out[index] = labels
    return out


def chexpert(pairs: Sequence[Pair], language: str, context=None) -> MetricOutput:
    """CheXpert-label F1, micro / macro, 14 and top-5 observations."""
    uncertain_positive = getattr(context, "uncertain_positive", True)
    languages = [p.language for p in pairs]
    pred = chexpert_labels([p.hyp for p in pairs], languages)
    true = chexpert_labels([p.ref for p in pairs], languages)
    out = MetricOutput()
    for suffix, names in (("14", observations()), ("5", top5())):
        scores = label_f1(pred, true, names, uncertain_positive)
        out.corpus[f"chexpert_micro_f1_{suffix}"] = scores["micro_f1"]
        out.corpus[f"chexpert_macro_f1_{suffix}"] = scores["macro_f1"]
        if suffix == "14":
            out.details["chexpert_per_observation"] = scores["per_observation"]
    out.details["chexpert_uncertain_as_positive"] = uncertain_positive
    return out


def phantom(pairs: Sequence[Pair], language: str, context=None) -> MetricOutput:
    """Phantom CXR clinical scores on the samples that carry ``labels``."""
    labelled = [p for p in pairs if p.labels is not None]
    if not labelled:
        return MetricOutput.skipped("no record carries 'labels' (structured truth)")
    try:
        from echo_cxr.phantom import clinical_scores, label_report
    except ImportError as err:
        return MetricOutput.skipped(f"echo_cxr.phantom is not available ({err})")
    predicted = [label_report(p.raw_hyp, p.language) for p in labelled]
    scores = clinical_scores(predicted, [p.labels for p in labelled])
    out = MetricOutput(corpus={f"phantom_{key}": float(scores[key]) for key in PHANTOM_KEYS})
    out.details["phantom_per_finding"] = scores.get("per_finding", {})
    out.details["phantom_n_labelled"] = len(labelled)
    return out
