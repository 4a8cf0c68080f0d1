"""Reports from the stage-0 tower alone: its probe head's labels, written as Phantom reports.

``echo-cxr diagnose probe`` reads the labels the tower + probe head predict for every study of a
data file and writes them as a results file in ``echo-cxr infer``'s record format, each report
composed from the predicted labels with the Phantom report writer in the sample's language. So
``echo-cxr score`` measures the tower exactly as it measures the report models (labels read back
from the text by the Phantom labeler), and the number says what a language model reading this
tower could reach at best.
"""

from __future__ import annotations

import json
from pathlib import Path

from echo_cxr.errors import EchoError

PROBE_DECODER = "probe"
REPORT_SEED = 0  # phrasing choice of the composed reports


def probe_records(run_dir: str | Path, data: list[str]) -> list[dict]:
    """One infer-style record per sample of ``data`` (release JSON files with Phantom labels)."""
    from echo_cxr.evaluation.data import read_datasets
    from echo_cxr.phantom.reports import compose_report
    from echo_cxr.phantom.streams import stream
    from echo_cxr.prompts import format_reference
    from echo_cxr.training.vision_pretrain import probe_labels, unique_studies

    samples = read_datasets(data)
    if not samples:
        raise EchoError(f"no samples in {', '.join(data)}")
    studies = unique_studies(samples)
    predicted = dict(zip((s.images for s in studies), probe_labels(run_dir, studies)))
    run = f"probe:{Path(run_dir).resolve()}"
    records = []
    for index, sample in enumerate(samples):
        labels = predicted[sample.images]
        report = compose_report(labels, sample.language, stream(REPORT_SEED, index, 0))
        records.append({
            "run_id": run, "run_total": len(samples), "sample_id": sample.sample_id, "sample_index": 0,
            "source": sample.source, "source_digest": sample.source_digest, "language": sample.language,
            "reference": {"findings": sample.findings, "impression": sample.impression, "text": sample.reference},
            "labels": sample.labels, "model": str(run_dir), "images": list(sample.images),
            "report": format_reference(report.findings, report.impression, sample.language),
            "findings": report.findings, "impression": report.impression, "predicted_labels": labels,
            "decoder": PROBE_DECODER, "stats": None, "error": None})
    return records


def write_probe_results(run_dir: str | Path, data: list[str], out: str | Path) -> int:
    records = probe_records(run_dir, data)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return len(records)
