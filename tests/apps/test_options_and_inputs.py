"""Request options and batch inputs: typed, validated, one clear message per mistake."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest

from echo_cxr.apps.options import ReportOptions
from echo_cxr.apps.studies import check_studies, read_batch
from echo_cxr.errors import EchoError


def test_options_from_json_and_model_defaults(tiny):
    options = ReportOptions.from_json({"language": "zh", "steps": 2, "threshold": 1, "max_new_tokens": 32})
    config = options.decode_config(tiny)
    assert (config.block_length, config.steps, config.threshold, config.max_new_tokens) == (4, 2, 1.0, 32)
    assert ReportOptions.from_json(None) == ReportOptions()


@pytest.mark.parametrize("data, message", [
    ([1], "must be a JSON object"),
    ({"lang": "en"}, "unknown option 'lang'"),
    ({"language": "fr"}, "unknown language 'fr'"),
    ({"decoder": "magic"}, "unknown decoder"),
    ({"steps": 1.5}, "must be an integer"),
    ({"seed": True}, "must be an integer"),
    ({"top_p": "high"}, "must be a number"),
    ({"language": None}, "must not be null"),
    ({"max_new_tokens": 0}, "max new tokens must be at least 1"),
    ({"block_length": 4, "steps": 8}, "steps must be between"),
    ({"strategy": "bogus"}, "unknown strategy"),
    ({"prompt": ""}, "prompt must hold"),
])
def test_bad_options(data, message):
    with pytest.raises(EchoError, match=message):
        ReportOptions.from_json(data)


def test_folder_batch_layout(tmp_path, files):
    (tmp_path / "study2").mkdir()
    shutil.copy(files["frontal.png"], tmp_path / "b.png")
    shutil.copy(files["view.dcm"], tmp_path / "a_dicom_without_suffix")
    shutil.copy(files["lateral.png"], tmp_path / "study2" / "2_lateral.png")
    shutil.copy(files["frontal.png"], tmp_path / "study2" / "1_frontal.png")
    (tmp_path / "readme.md").write_text("notes")
    (tmp_path / ".hidden.png").write_text("ignored")
    batch = read_batch(tmp_path, "zh")
    assert [(s.sample_id, len(s.images), s.language) for s in batch.studies] == [
        ("a_dicom_without_suffix", 1, "zh"), ("b", 1, "zh"), ("study2", 2, "zh")]
    assert batch.studies[2].images[0].endswith("1_frontal.png") and batch.skipped == [str(tmp_path / "readme.md")]
    check_studies(batch.studies)
    shutil.copy(files["view.jpg"], tmp_path / "b.jpg")
    with pytest.raises(EchoError, match="two studies are named 'b'"):
        read_batch(tmp_path)


def test_batch_input_errors(tmp_path, files):
    (tmp_path / "empty").mkdir()
    with pytest.raises(EchoError, match="no images found"):
        read_batch(tmp_path / "empty")
    (tmp_path / "list.txt").write_text("a.png")
    with pytest.raises(EchoError, match="neither a folder nor a .json file"):
        read_batch(tmp_path / "list.txt")
    (tmp_path / "bad.json").write_text(json.dumps([{"sample_id": "x", "images": []}]))
    with pytest.raises(EchoError, match="non-empty list"):
        read_batch(tmp_path / "bad.json")
    (tmp_path / "gone.json").write_text(json.dumps([{"sample_id": "x", "images": ["gone.png"],
                                                     "ground_truth": {"findings": "", "impression": ""}}]))
    with pytest.raises(EchoError, match="image not found"):
        check_studies(read_batch(tmp_path / "gone.json").studies)
    many = read_batch(tmp_path / "gone.json").studies[0]
    with pytest.raises(EchoError, match="study 'x': too many images"):
        check_studies([replace(many, images=(files["frontal.png"],) * 5)])
