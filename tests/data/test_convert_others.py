"""CheXpert-Plus, ReXGradient-160K and IU X-ray look-alikes through ``data convert``."""

import json

import pytest

from echo_cxr.cli import main
from echo_cxr.data.lookalike import build_lookalike
from tests.data.helpers import check_against, reasons, run_convert

LAYOUTS = [
    ("chexpert-plus", {}),
    ("chexpert-plus", {"png_folder": "PNG/PNG", "keep_split_folder": False}),
    ("rexgradient", {}),
    ("iu-xray", {"layout": "csv"}),
    ("iu-xray", {"layout": "xml"}),
]


@pytest.mark.parametrize("dataset, layout", LAYOUTS)
@pytest.mark.parametrize("validate", [False, True])
def test_every_study_is_kept_or_dropped_for_its_reason(tmp_path, dataset, layout, validate):
    look = build_lookalike(dataset, tmp_path / "raw", **layout)
    manifest = run_convert(dataset, tmp_path / "raw", tmp_path / "out", validate=validate)
    check_against(look, tmp_path / "out", manifest, validate=validate)
    assert {r: n for r, n in manifest["dropped"].items() if n} == reasons(look, validate)


def test_chexpert_rows_of_a_study_need_not_be_adjacent_and_jpg_names_find_pngs(tmp_path):
    build_lookalike("chexpert-plus", tmp_path / "raw")
    manifest = run_convert("chexpert-plus", tmp_path / "raw", tmp_path / "out")
    entries = {e["sample_id"]: e for e in json.loads((tmp_path / "out" / "train.json").read_text())}
    entry = entries["chexpert-plus-train-patient00001-study1"]  # its lateral row is the table's last row
    assert entry["views"] == ["frontal", "lateral"] and all(p.endswith(".png") for p in entry["images"])
    assert manifest["splits"]["val"]["studies"] == 1  # "valid" is the official validation split


def test_rexgradient_takes_text_from_the_csv_when_the_json_has_none(tmp_path):
    build_lookalike("rexgradient", tmp_path / "raw")
    run_convert("rexgradient", tmp_path / "raw", tmp_path / "out", splits=("test",))
    (entry,) = json.loads((tmp_path / "out" / "test.json").read_text())
    assert entry["ground_truth"] == {"findings": "Fläche unauffällig; heart normal.",
                                     "impression": "Normal — no change."}


def test_iu_hash_split_is_stable_and_follows_fractions(tmp_path):
    from echo_cxr.data.converters.base import hash_split

    fractions = (("train", 0.7), ("val", 0.1), ("test", 0.2))
    drawn = [hash_split(f"iu-xray-{i}", fractions) for i in range(4000)]
    assert drawn == [hash_split(f"iu-xray-{i}", fractions) for i in range(4000)]
    assert abs(drawn.count("train") / 4000 - 0.7) < 0.03 and abs(drawn.count("test") / 4000 - 0.2) < 0.03
    look = build_lookalike("iu-xray", tmp_path / "raw")
    manifest = run_convert("iu-xray", tmp_path / "raw", tmp_path / "out", split_fractions=(("test", 1.0),))
    assert list(manifest["splits"]) == ["test"]
    assert manifest["splits"]["test"]["studies"] == list(look.outcomes().values()).count("kept")


def test_cli_convert_prints_counts_and_refuses_bad_options(tmp_path, capsys):
    build_lookalike("rexgradient", tmp_path / "raw")
    with pytest.raises(SystemExit) as done:
        main(["data", "convert", "--dataset", "rexgradient", "--root", str(tmp_path / "raw"), "--out",
              str(tmp_path / "out"), "--quiet", "--max-images", "0"])
    assert done.value.code in (0, None)
    out = capsys.readouterr().out
    assert "kept 8, dropped 7" in out and "duplicate_study 1" in out
    for bad, message in ([["--dataset", "nope"], "unknown dataset"], [["--views", "front"], "--views"],
                         [["--split-fractions", "train=0.5"], "sum to 1"]):
        args = ["data", "convert", "--dataset", "rexgradient", "--root", str(tmp_path / "raw"),
                "--out", str(tmp_path / "o2"), *bad]
        with pytest.raises(SystemExit) as done:
            main(args)
        assert done.value.code == 2 and message in capsys.readouterr().err


def test_rexgradient_json_named_only_by_split(tmp_path):
    look = build_lookalike("rexgradient", tmp_path / "raw")
    for path in (tmp_path / "raw" / "metadata").glob("*_metadata_view_position.json"):
        path.rename(path.with_name(path.name.split("_")[0] + ".json"))
    manifest = run_convert("rexgradient", tmp_path / "raw", tmp_path / "out")
    check_against(look, tmp_path / "out", manifest)
