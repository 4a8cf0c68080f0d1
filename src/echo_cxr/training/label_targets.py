"""Phantom CXR labels as binary targets: one per finding type and one per (finding, attribute
value). Used by the vision pretraining stage (``vision_pretrain.py``)."""

from __future__ import annotations

import torch

from echo_cxr.phantom import CATALOG


def target_names() -> list[str]:
    """``finding`` and ``finding:attribute=value`` for every catalog entry, in catalog order."""
    names = []
    for spec in CATALOG:
        names.append(spec.name)
        for attribute in spec.attributes:
            names += [f"{spec.name}:{attribute.name}={value}" for value in attribute.values]
    return names


def encode_labels(labels: list[dict], names: list[str]) -> torch.Tensor:
    """(len(names),) float 0/1 vector of a study's labels."""
    index = {name: i for i, name in enumerate(names)}
    target = torch.zeros(len(names))
    for label in labels:
        finding = label["finding"]
        target[index[finding]] = 1.0
        for key, value in label.items():
            if key != "finding":
                target[index[f"{finding}:{key}={value}"]] = 1.0
    return target


def decode_targets(probabilities: torch.Tensor, names: list[str], threshold: float = 0.5) -> list[dict]:
    """Labels from per-target probabilities: present findings with their most likely attributes."""
    from echo_cxr.phantom import canonical_labels

    labels = []
    for spec in CATALOG:
        if probabilities[names.index(spec.name)] < threshold:
            continue
        label = {"finding": spec.name}
        for attribute in spec.attributes:
            scores = [float(probabilities[names.index(f"{spec.name}:{attribute.name}={v}")]) for v in attribute.values]
            label[attribute.name] = attribute.values[scores.index(max(scores))]
        labels.append(label)
    return canonical_labels(labels)
