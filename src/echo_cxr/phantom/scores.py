"""Clinical scores from labels: did a generated report state the right findings, with the right
side / severity / zone, and nothing else?

Matching is per report and per finding type (a label list holds at most one label per type):
a finding in both lists is a true positive, only in the prediction a false positive
(hallucinated), only in the truth a false negative (omitted). On true positives, attribute
accuracy counts labels whose attributes all agree ("unspecified" never agrees).
Conventions: precision, recall and F1 of a finding are 0.0 when their denominator is 0;
macro F1 averages over finding types present in the truth or the predictions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from echo_cxr.errors import EchoError
from echo_cxr.phantom.catalog import FINDING_NAMES

Labels = Sequence[Mapping[str, str]]


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def _f1(precision: float, recall: float) -> float:
    return _ratio(2 * precision * recall, precision + recall)


def _by_finding(labels: Labels) -> dict[str, Mapping[str, str]]:
    out: dict[str, Mapping[str, str]] = {}
    for label in labels:
        out.setdefault(label["finding"], label)
    return out


def _count(pred_list: Sequence[Labels], true_list: Sequence[Labels]) -> tuple[dict, dict]:
    counts = {name: {"tp": 0, "fp": 0, "fn": 0} for name in FINDING_NAMES}
    attrs = {"matched": 0, "exact": 0}
    for pred_labels, true_labels in zip(pred_list, true_list):
        pred, true = _by_finding(pred_labels), _by_finding(true_labels)
        for name in set(pred) | set(true):
            counts.setdefault(name, {"tp": 0, "fp": 0, "fn": 0})
            if name in pred and name in true:
                counts[name]["tp"] += 1
                attrs["matched"] += 1
                attrs["exact"] += int(dict(pred[name]) == dict(true[name]))
            elif name in pred:
                counts[name]["fp"] += 1
            else:
                counts[name]["fn"] += 1
    return counts, attrs


def clinical_scores(pred_labels_list: Sequence[Labels], true_labels_list: Sequence[Labels]
                    ) -> dict:
    """Per-finding precision/recall/F1, micro and macro F1, attribute accuracy on true
    positives, and hallucinated / omitted findings per report.

    Both arguments are lists (one entry per report) of label lists, as returned by
    ``label_report`` and stored in the data set's ``labels`` field.
    """
    if len(pred_labels_list) != len(true_labels_list):
        raise EchoError(f"{len(pred_labels_list)} predicted label lists for "
                        f"{len(true_labels_list)} reference label lists")
    counts, attrs = _count(pred_labels_list, true_labels_list)
    per_finding, f1s = {}, []
    for name, c in counts.items():
        precision = _ratio(c["tp"], c["tp"] + c["fp"])
        recall = _ratio(c["tp"], c["tp"] + c["fn"])
        f1 = _f1(precision, recall)
        per_finding[name] = {"precision": precision, "recall": recall, "f1": f1,
                             "support": c["tp"] + c["fn"], **c}
        if c["tp"] + c["fp"] + c["fn"]:
            f1s.append(f1)
    tp = sum(c["tp"] for c in counts.values())
    fp = sum(c["fp"] for c in counts.values())
    fn = sum(c["fn"] for c in counts.values())
    n = len(true_labels_list)
    micro_p, micro_r = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    return {
        "n_reports": n,
        "per_finding": per_finding,
        "micro_precision": micro_p,
        "micro_recall": micro_r,
        "micro_f1": _f1(micro_p, micro_r),
        "macro_f1": _ratio(sum(f1s), len(f1s)),
        "attribute_accuracy": _ratio(attrs["exact"], attrs["matched"]),
        "hallucinated_per_report": _ratio(fp, n),
        "omitted_per_report": _ratio(fn, n),
    }
