"""`echo-cxr generate` grown for clinical files: DICOM and multi-view studies, --stream, --batch
(JSON or folder, JSON lines, the batched decoder), and every bad input as exit 2 with one line."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest

from echo_cxr.cli import main

FAST = ["--max-new-tokens", "10", "--quantize", "none"]  # strict float32: compared with library decodes


def run(capsys, args):
    with pytest.raises(SystemExit) as done:
        main(["generate", *args])
    captured = capsys.readouterr()
    return done.value.code, captured.out, captured.err


def one_line_error(code, out, err, message):
    assert code == 2, err
    assert message in err and "Traceback" not in err, err
    lines = [line for line in err.strip().splitlines() if not line.startswith("note: ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert out == ""


def alone(tiny, images, language="en", **settings):
    """The record of one study decoded alone by the library: what every entry point must print."""
    from echo_cxr.decoding import Study
    from echo_cxr.pipeline import decode_config, generate_reports

    config = decode_config(tiny, "blockwise", max_new_tokens=10, **settings)
    return generate_reports(tiny, [Study(list(images), language=language)], config)[0]


def test_dicom_and_multi_view_study(capsys, tiny, files):
    views = [files["frontal.png"], files["view.dcm"], files["view.jpg"]]
    code, out, err = run(capsys, [*views, *FAST, "--json"])
    assert code == 0, err
    record = json.loads(out)
    assert record["images"] == views and record["token_ids"] == alone(tiny, views)["token_ids"]
    assert "random:tiny" in err  # the default model says what it is


def test_stream_prints_the_same_report(capsys, files):
    code, plain, _ = run(capsys, [files["wide.png"], *FAST])
    code2, streamed, _ = run(capsys, [files["wide.png"], *FAST, "--stream"])
    assert code == code2 == 0 and streamed.strip() == plain.strip() != ""


def test_batch_folder_to_json_lines_equals_one_at_a_time(capsys, tmp_path, tiny, files):
    folder = tmp_path / "studies"
    (folder / "two_views").mkdir(parents=True)
    shutil.copy(files["frontal.png"], folder / "a.png")
    shutil.copy(files["view.dcm"], folder / "b.dcm")
    shutil.copy(files["frontal.png"], folder / "two_views" / "1.png")
    shutil.copy(files["lateral.png"], folder / "two_views" / "2.png")
    (folder / "notes.txt").write_text("not an image")
    out = tmp_path / "reports.jsonl"
    code, stdout, err = run(capsys, ["--batch", str(folder), "--batch-size", "2", "--out", str(out), *FAST])
    assert code == 0 and stdout == "" and "skipped 1 files" in err
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["sample_id"] for r in lines] == ["a", "b", "two_views"]
    for record in lines:
        assert record["token_ids"] == alone(tiny, record["images"])["token_ids"]
    assert len(lines[2]["images"]) == 2
    code, _, err = run(capsys, ["--batch", str(folder), "--out", str(out), *FAST])
    assert code == 2 and "already exists" in err


def test_batch_release_json_to_stdout(capsys, tmp_path, tiny, files):
    shutil.copy(files["frontal.png"], tmp_path / "f.png")
    shutil.copy(files["lateral.png"], tmp_path / "l.png")
    samples = [{"sample_id": "en1", "images": ["f.png", "l.png"], "ground_truth": {"findings": "Clear.", "impression": "Normal."}},
               {"sample_id": "zh1", "images": ["f.png"], "ground_truth": {"findings": "双肺清晰。", "impression": "未见异常。"}}]
    (tmp_path / "test.json").write_text(json.dumps(samples, ensure_ascii=False))
    code, stdout, err = run(capsys, ["--batch", str(tmp_path / "test.json"), *FAST])
    assert code == 0, err
    records = [json.loads(line) for line in stdout.splitlines()]
    assert [(r["sample_id"], r["language"]) for r in records] == [("en1", "en"), ("zh1", "zh")]
    assert records[1]["token_ids"] == alone(tiny, [str(tmp_path / "f.png")], language="zh")["token_ids"]


@pytest.mark.parametrize("name", ["text.png", "truncated.png", "empty.png", "one_pixel.png", "bomb.png",
                                  "no_pixels.dcm", "multi_frame.dcm", "unknown_syntax.dcm"])
def test_bad_image_files(capsys, bad_files, files, name):
    path, message = bad_files[name]
    one_line_error(*run(capsys, [files["frontal.png"], path]), message)


def test_bad_paths_settings_and_models(capsys, tmp_path, files):
    good = files["frontal.png"]
    one_line_error(*run(capsys, [str(tmp_path / "missing.png")]), "image not found")
    one_line_error(*run(capsys, [str(tmp_path)]), "is a directory")
    one_line_error(*run(capsys, [good] * 5), "too many images for one study: 5 (at most 4)")
    one_line_error(*run(capsys, [good, "--lang", "fr"]), "unknown language 'fr'")
    one_line_error(*run(capsys, [good, "--model", str(tmp_path / "nowhere")]), "neither a folder nor a hub id")
    one_line_error(*run(capsys, [good, "--max-new-tokens", "0"]), "max new tokens must be at least 1, got 0")
    one_line_error(*run(capsys, [good, "--max-new-tokens", "-5"]), "max new tokens must be at least 1, got -5")
    one_line_error(*run(capsys, ["--batch", str(tmp_path / "none.json")]), "batch input not found")
    one_line_error(*run(capsys, [good, "--batch", str(tmp_path)]), "not both")


def test_model_folder_without_tokenizer_and_block_length_mismatch(capsys, tmp_path, tiny, files):
    from echo_cxr.model import save_checkpoint
    from echo_cxr.model.bundle import ModelDefaults

    folder = save_checkpoint(replace(tiny, defaults=ModelDefaults(block_length=8, steps=1)), tmp_path / "model")
    capsys.readouterr()  # the saver's progress bar
    one_line_error(*run(capsys, [files["frontal.png"], "--model", str(folder), "--block-length", "4"]),
                   "trained with block length 8")
    broken = tmp_path / "no_tokenizer"
    shutil.copytree(folder, broken)
    for path in broken.glob("tokenizer*"):
        path.unlink()
    one_line_error(*run(capsys, [files["frontal.png"], "--model", str(broken)]), "has no tokenizer")


def test_a_bad_file_in_a_batch_writes_nothing(capsys, tmp_path, files, bad_files):
    folder = tmp_path / "studies"
    folder.mkdir()
    shutil.copy(files["frontal.png"], folder / "a.png")
    shutil.copy(bad_files["truncated.png"][0], folder / "z.png")
    out = tmp_path / "reports.jsonl"
    one_line_error(*run(capsys, ["--batch", str(folder), "--out", str(out)]), "truncated or corrupt PNG")
    one_line_error(*run(capsys, ["--batch", str(folder)]), "truncated or corrupt PNG")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["studies"]  # no results, no partial file


def test_debug_shows_the_traceback(files, bad_files):
    from echo_cxr.errors import EchoError

    with pytest.raises(EchoError):
        main(["generate", bad_files["text.png"][0], "--debug"])
