"""MIMIC-CXR-JPG + reports look-alikes through ``data convert``: every study's fate, the messy cases."""

import json
import os

import pytest

from echo_cxr.data.lookalike import build_lookalike
from echo_cxr.data.records import DROP_REASONS
from echo_cxr.errors import EchoError
from tests.data.helpers import check_against, reasons, run_convert


@pytest.mark.parametrize("layout", [
    {"gz": True},
    {"gz": False, "nest": "physionet.org/files/mimic-cxr-jpg/2.1.0", "separate_reports": True},
])
def test_every_study_is_kept_or_dropped_for_its_reason(tmp_path, layout):
    look = build_lookalike("mimic-cxr", tmp_path / "raw", **layout)
    manifest = run_convert("mimic-cxr", tmp_path / "raw", tmp_path / "out")
    found = check_against(look, tmp_path / "out", manifest)
    assert {r: n for r, n in manifest["dropped"].items() if n} == reasons(look)
    assert set(manifest["dropped"]) == set(DROP_REASONS)
    assert manifest["splits"].keys() == {"train", "val", "test"}
    # frontal first although the metadata lists the lateral first; one frontal + one lateral of three
    entry = found["mimic-cxr-p10000001-s50000001"][1]
    assert entry["views"] == ["frontal", "lateral"] and all(p.endswith(".jpg") for p in entry["images"])
    assert manifest["images"]["over_max"] == 1
    # paths are relative to the JSON file and point at the dataset's own files
    for path in entry["images"]:
        assert not os.path.isabs(path) and (tmp_path / "out" / path).resolve().is_file()


def test_validate_decodes_images_and_drops_corrupt_ones(tmp_path):
    look = build_lookalike("mimic-cxr", tmp_path / "raw")
    manifest = run_convert("mimic-cxr", tmp_path / "raw", tmp_path / "out", validate=True)
    check_against(look, tmp_path / "out", manifest, validate=True)
    assert manifest["dropped"]["unreadable_image"] == 2


def test_split_and_view_selection(tmp_path):
    look = build_lookalike("mimic-cxr", tmp_path / "raw")
    manifest = run_convert("mimic-cxr", tmp_path / "raw", tmp_path / "out", splits=("test",),
                           views=("frontal",), max_images=None)
    assert list(manifest["splits"]) == ["test"]
    tests = [sid for sid, e in look.studies.items() if e.split == "test"]
    assert manifest["counts"]["kept"] + manifest["counts"]["dropped"] == len(tests) + 1  # + the no-split study
    assert manifest["counts"]["not_selected"] == sum(1 for e in look.studies.values() if e.split in ("train", "val"))
    entries = json.loads((tmp_path / "out" / "test.json").read_text())
    assert all(e["views"] == ["frontal"] for e in entries)


def test_reports_folder_option_and_clear_errors(tmp_path):
    look = build_lookalike("mimic-cxr", tmp_path / "raw", separate_reports=True)
    moved = tmp_path / "elsewhere"
    (tmp_path / "raw" / "mimic-cxr-reports").rename(moved)
    manifest = run_convert("mimic-cxr", tmp_path / "raw", tmp_path / "out")
    assert manifest["counts"]["kept"] == 0 and manifest["dropped"]["report_missing"] > 10
    manifest = run_convert("mimic-cxr", tmp_path / "raw", tmp_path / "out2", reports=str(moved / "files"))
    assert manifest["counts"]["kept"] == list(look.outcomes().values()).count("kept")
    with pytest.raises(EchoError, match="split file"):
        run_convert("mimic-cxr", moved, tmp_path / "out3")
    with pytest.raises(EchoError, match="already holds a finished conversion"):
        run_convert("mimic-cxr", tmp_path / "raw", tmp_path / "out2", reports=str(moved))


def test_without_the_metadata_file_the_split_file_lists_the_images(tmp_path):
    look = build_lookalike("mimic-cxr", tmp_path / "raw")
    (tmp_path / "raw" / "mimic-cxr-2.0.0-metadata.csv.gz").unlink()
    manifest = run_convert("mimic-cxr", tmp_path / "raw", tmp_path / "out")
    found = {e["sample_id"]: e for split in manifest["splits"] for e in
             json.loads((tmp_path / "out" / f"{split}.json").read_text())}
    assert all(set(e["views"]) == {"unknown"} for e in found.values())
    # views unknown: the lateral-only and decubitus-only studies can no longer be told apart
    kept = {sid for sid, o in look.outcomes().items() if o == "kept"}
    assert kept < set(found) and manifest["dropped"]["no_frontal_view"] == 0
