"""Running a conversion and reading back what it wrote, for the converter tests."""

from __future__ import annotations

import json
from pathlib import Path

from echo_cxr.data.config import ConvertConfig
from echo_cxr.data.convert import convert
from echo_cxr.evaluation.data import read_dataset


def run_convert(dataset: str, root: Path, out: Path, **options) -> dict:
    return convert(ConvertConfig(dataset, str(root), str(out), progress=False, **options))


def written(out: Path, manifest: dict) -> dict[str, tuple[str, dict]]:
    """sample_id -> ("kept", entry) or (drop reason, dropped record), read back from the files."""
    found: dict[str, tuple[str, dict]] = {}
    for split, info in manifest["splits"].items():
        entries = json.loads((out / info["json"]).read_text(encoding="utf-8"))
        samples = read_dataset(out / info["json"])  # the schema every command reads
        assert [s.sample_id for s in samples] == [e["sample_id"] for e in entries]
        for entry, sample in zip(entries, samples):
            assert entry["split"] == split and not sample.missing_images()
            assert entry["sample_id"] not in found
            found[entry["sample_id"]] = ("kept", entry)
    for line in (out / "dropped.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["reason"] == "duplicate_study":  # the id's first study is kept or dropped on its own
            continue
        assert record["sample_id"] not in found
        found[record["sample_id"]] = (record["reason"], record)
    return found


def check_accounting(manifest: dict) -> None:
    """Every study read is kept, dropped (by reason) or not selected."""
    counts = manifest["counts"]
    assert counts["studies_read"] == counts["kept"] + counts["dropped"] + counts["not_selected"]
    assert counts["dropped"] == sum(manifest["dropped"].values())
    assert counts["kept"] == sum(info["studies"] for info in manifest["splits"].values())


def check_against(look, out: Path, manifest: dict, validate: bool = False) -> dict:
    """The conversion did with every study what the look-alike says; returns what was written."""
    check_accounting(manifest)
    found = written(out, manifest)
    for sample_id, expected in look.studies.items():
        want = (expected.validate_outcome or expected.outcome) if validate else expected.outcome
        if want == "not_selected":
            assert sample_id not in found
            continue
        outcome, record = found[sample_id]
        assert outcome == want, (sample_id, outcome, want, record)
        if outcome == "kept":
            truth = record["ground_truth"]
            assert (truth["findings"], truth["impression"]) == (expected.findings, expected.impression), sample_id
            assert record["views"] == expected.views, sample_id
            assert record["split"] == expected.split, sample_id
    assert set(found) <= set(look.studies)
    return found


def reasons(look, validate: bool = False) -> dict[str, int]:
    """Expected drop counts by reason."""
    counts: dict[str, int] = dict(look.unnamed_drops)
    for outcome in look.outcomes(validate).values():
        if outcome not in ("kept", "not_selected"):
            counts[outcome] = counts.get(outcome, 0) + 1
    return counts
