"""Periodic validation: loss on the validation set with fixed noise, and (diffusion stages) the
decoding of a few validation studies through the shared decoder, reporting TPF."""

from __future__ import annotations

import torch

from echo_cxr.decoding import DecodeConfig, Study, generate
from echo_cxr.training.objectives import compute_loss
from echo_cxr.training.packing import pack
from echo_cxr.training.encode import make_example

VALIDATION_SEED = 1_000_003  # fixed noise for validation, whatever the training step


@torch.no_grad()
def validation_loss(bundle, samples, objective, settings, batch_size, records=None) -> float:
    """Mean per-sample loss over ``samples`` (noise drawn from a fixed seed)."""
    from echo_cxr.prompts import target_text

    model = bundle.model
    was_training = model.training
    model.eval()
    generator = torch.Generator().manual_seed(VALIDATION_SEED)
    total, count = 0.0, 0
    usable = [s for s in samples if records is None or s.sample_id in records]
    for start in range(0, len(usable), batch_size):
        segments = []
        for sample in usable[start : start + batch_size]:
            example = make_example(bundle, study_of(sample), target_text(sample.findings, sample.impression,
                                                                          sample.language), sample.sample_id)
            record = records.get(sample.sample_id) if records is not None else None
            segments.append(objective.build(example, settings, generator, record))
        loss, _ = compute_loss(objective, model, pack(segments), settings)
        total += float(loss) * len(segments)
        count += len(segments)
    model.train(was_training)
    return total / max(count, 1)


def study_of(sample) -> Study:
    return Study(list(sample.images), language=sample.language)


@torch.no_grad()
def validation_decode(bundle, samples, config: DecodeConfig, decoder: str) -> dict:
    """Decode a few studies; mean TPF and the texts (for the log)."""
    model = bundle.model
    was_training = model.training
    model.eval()
    results = generate(bundle, [study_of(s) for s in samples], config, decoder=decoder)
    model.train(was_training)
    tpf = [r.stats.tokens_per_forward for r in results]
    summary = {"tpf": sum(tpf) / len(tpf), "texts": [r.text for r in results]}
    if all(s.labels is not None for s in samples):  # Phantom CXR: exact clinical truth
        from echo_cxr.phantom import clinical_scores, label_report

        predicted = [label_report(r.text, s.language) for r, s in zip(results, samples)]
        summary["clinical_f1"] = clinical_scores(predicted, [s.labels for s in samples])["micro_f1"]
    return summary
