"""Section parsing (EN/ZH variants) and reading release-schema test sets."""

import json

import pytest

from echo_cxr.errors import EchoError
from echo_cxr.evaluation.data import read_dataset, read_datasets
from echo_cxr.report import parse_sections


@pytest.mark.parametrize("text, findings, impression", [
    ("Findings: Heart normal. Impression: No acute disease.", "Heart normal", "No acute disease."),
    ("Finding: Heart normal, Impression: Normal.", "Heart normal", "Normal."),
    ("FINDINGS：Heart normal。IMPRESSION：Normal", "Heart normal", "Normal"),
    ("Findings : lungs clear\nImpressions : none", "lungs clear", "none"),
    ("所见：心影不大。 结论：未见异常。", "心影不大", "未见异常。"),
    ("所见:心影不大，结论:未见异常", "心影不大", "未见异常"),
    ("影像所见：双肺清晰。结论：正常。", "双肺清晰", "正常。"),
    ("Heart normal without headers.", "Heart normal without headers", ""),
    ("Impression: only an impression.", "", "only an impression."),
])
def test_parse_sections_en_and_zh_variants(text, findings, impression):
    assert parse_sections(text) == (findings, impression)


def write(path, payload):
    path.write_text(payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False), "utf-8")
    return path


def sample(sample_id, images, findings="Heart normal.", impression="No acute disease.", **extra):
    return {"sample_id": sample_id, "images": images, "ground_truth": {"findings": findings, "impression": impression},
            **extra}


def test_release_schema_paths_languages_and_labels(tmp_path):
    folder = tmp_path / "sets"
    folder.mkdir()
    path = write(folder / "test.json", [
        sample("a", ["../img/a_frontal.png", "../img/a_lateral.png"]),
        sample("b", ["b.png"], "心影不大。", "未见异常。"),
        sample("c", ["c.png"], "Heart normal 心", "x", language="en", labels=[{"finding": "pneumothorax"}]),
        sample(7, ["d.png"], "心影增大 with some English words here", "结论"),
    ])
    samples = read_dataset(path)
    assert samples[0].images == (str((tmp_path / "img/a_frontal.png").resolve()),
                                 str((tmp_path / "img/a_lateral.png").resolve()))
    assert [s.language for s in samples] == ["en", "zh", "en", "zh"]  # CJK share > 0.1 -> zh
    assert samples[2].labels == [{"finding": "pneumothorax"}] and samples[0].labels is None
    assert samples[3].sample_id == "7"
    assert samples[0].reference == "Findings: Heart normal. Impression: No acute disease.."  # release format
    assert samples[1].reference == "所见：心影不大。 结论：未见异常。"
    assert samples[0].missing_images() == list(samples[0].images)


@pytest.mark.parametrize("payload, message", [
    ('[{"sample_id": "a", ', "malformed JSON at line 1"),
    ('{"sample_id": "a"}', "expected a JSON list"),
    ([{"images": ["a.png"], "ground_truth": {"findings": "", "impression": ""}}], "missing or invalid 'sample_id'"),
    ([sample("a", [])], "'images' must be a non-empty list"),
    ([{"sample_id": "a", "images": ["a.png"]}], "missing 'ground_truth'"),
    ([sample("a", ["a.png"], findings=None)], "string 'findings' and 'impression'"),
    ([sample("a", ["a.png"], language="fr")], "unknown language 'fr'"),
    ([sample("a", ["a.png"]), sample("a", ["b.png"])], "duplicate sample_id 'a'"),
    ([sample("a", ["a.png"], labels="pneumothorax")], "'labels' must be a list"),
])
def test_bad_data_files_are_clear_errors(tmp_path, payload, message):
    path = write(tmp_path / "bad.json", payload)
    with pytest.raises(EchoError, match=message) as err:
        read_dataset(path)
    assert "bad.json" in str(err.value)


def test_several_files_and_the_same_file_twice(tmp_path):
    a = write(tmp_path / "a.json", [sample("x", ["x.png"])])
    b = write(tmp_path / "b.json", [sample("x", ["y.png"], "other")])
    samples = read_datasets([a, b])
    assert [s.sample_id for s in samples] == ["x", "x"] and samples[0].source_digest != samples[1].source_digest
    copy = write(tmp_path / "copy.json", a.read_text("utf-8"))
    with pytest.raises(EchoError, match="same content"):
        read_datasets([a, copy])
    with pytest.raises(EchoError, match="data file not found"):
        read_datasets([tmp_path / "missing.json"])
