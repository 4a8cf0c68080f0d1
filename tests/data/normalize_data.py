"""Release-schema files of hand-written reports for the normaliser tests (images are never read)."""

from __future__ import annotations

import json
from pathlib import Path


def write_samples(path: Path, reports: dict[str, tuple[str, str]]) -> Path:
    """One sample per id: (findings, impression); image paths need not exist for normalisation."""
    path.parent.mkdir(parents=True, exist_ok=True)
    entries = [{"sample_id": sid, "images": [f"images/{sid}.png"], "dataset": "hand-written",
                "ground_truth": {"findings": findings, "impression": impression}}
               for sid, (findings, impression) in reports.items()]
    path.write_text(json.dumps(entries, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def many_reports(count: int) -> dict[str, tuple[str, str]]:
    """``count`` distinct, plausible reports."""
    findings = ["Small right pleural effusion.", "Mild cardiomegaly.", "Left basilar atelectasis.",
                "No pneumothorax. Lungs are clear.", "Right upper lobe consolidation."]
    return {f"s{i:03d}": (f"{findings[i % len(findings)]} Study {i} of the series.", "See findings.")
            for i in range(count)}


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
