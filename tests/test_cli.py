"""The CLI as a user runs it: JSON output, decoder switches, and one-line errors with exit code 2."""

import json

import pytest
from PIL import Image

from echo_cxr.cli import main
from tests.conftest import make_image

BASE = ["--model", "random:tiny", "--seed", "3", "--max-new-tokens", "14", "--json"]


@pytest.fixture(scope="module")
def image_paths(tmp_path_factory):
    folder = tmp_path_factory.mktemp("images")
    paths = []
    for seed, (h, w) in enumerate([(80, 70), (60, 90)]):
        path = folder / f"view{seed}.png"
        Image.fromarray(make_image(seed, h, w)).save(path)
        paths.append(str(path))
    return paths


def run(capsys, args):
    with pytest.raises(SystemExit) as done:
        main(args)
    captured = capsys.readouterr()
    return done.value.code, captured.out, captured.err


def run_json(capsys, args):
    code, out, err = run(capsys, ["generate", *args])
    assert code == 0, err
    return json.loads(out)


def test_json_output_has_the_documented_fields(capsys, image_paths):
    record = run_json(capsys, [*image_paths, *BASE, "--block-length", "4", "--steps", "2"])
    for key in ("report", "findings", "impression", "language", "model", "token_ids", "decoding", "stats"):
        assert key in record
    for key in ("new_tokens", "forward_passes", "tokens_per_forward", "prefill_seconds", "decode_seconds",
                "tokens_per_second"):
        assert key in record["stats"]
    assert record["decoding"]["block_length"] == 4 and record["decoding"]["steps"] == 2
    assert record["stats"]["new_tokens"] == len(record["token_ids"]) == 14


def test_decoders_agree_from_the_command_line(capsys, image_paths):
    args = [image_paths[0], *BASE]
    blockwise = run_json(capsys, [*args, "--block-length", "8", "--steps", "2"])["token_ids"]
    assert run_json(capsys, [*args, "--block-length", "8", "--steps", "2", "--decoder", "reference"])["token_ids"] == blockwise
    fused = run_json(capsys, [*args, "--block-length", "8", "--steps", "1"])
    unfused = run_json(capsys, [*args, "--block-length", "8", "--steps", "1", "--no-fused"])
    assert fused["token_ids"] == unfused["token_ids"]
    assert fused["stats"]["kv_append_passes"] == 0 < unfused["stats"]["kv_append_passes"]
    one = run_json(capsys, [*args, "--block-length", "1", "--steps", "1"])["token_ids"]
    assert run_json(capsys, [*args, "--block-length", "1", "--decoder", "ar"])["token_ids"] == one


def test_plain_and_stream_output(capsys, image_paths):
    code, out, err = run(capsys, ["generate", image_paths[0], "--max-new-tokens", "8"])
    assert code == 0 and out.strip() and "random:tiny" in err  # the default model says what it is
    code, streamed, _ = run(capsys, ["generate", image_paths[0], "--max-new-tokens", "8", "--stream"])
    assert code == 0 and streamed.strip() == out.strip()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--strategy", "bogus"], "unknown strategy"),
        (["--steps", "9", "--block-length", "4"], "steps must be between"),
        (["--block-length", "0"], "block length"),
        (["--temperature", "-1"], "temperature"),
        (["--top-p", "0"], "top-p"),
        (["--top-p", "1.5"], "top-p"),
        (["--decoder", "magic"], "unknown decoder"),
        (["--lang", "fr"], "unknown language"),
        (["--model", "random:nope"], "unknown random preset"),
        (["--dtype", "int3"], "unknown dtype"),
    ],
)
def test_bad_settings_exit_2_with_one_line(capsys, image_paths, extra, message):
    code, out, err = run(capsys, ["generate", image_paths[0], *extra])
    assert code == 2
    assert message in err and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("error: ")


def test_bad_images_and_models(capsys, image_paths, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    code, _, err = run(capsys, ["generate", str(broken)])
    assert code == 2 and "cannot read image" in err
    code, _, err = run(capsys, ["generate", str(tmp_path / "missing.png")])
    assert code == 2 and "image not found" in err
    code, _, err = run(capsys, ["generate"])
    assert code == 2 and "Missing argument" in err
    empty = tmp_path / "empty_model"
    empty.mkdir()
    code, _, err = run(capsys, ["generate", image_paths[0], "--model", str(empty)])
    assert code == 2 and "no config.json" in err


def test_debug_shows_the_traceback(image_paths):
    from echo_cxr.errors import EchoError

    with pytest.raises(EchoError):
        main(["generate", image_paths[0], "--strategy", "bogus", "--debug"])


def test_block_length_must_match_a_trained_checkpoint(capsys, image_paths, tmp_path, tiny_bundle):
    from dataclasses import replace

    from echo_cxr.model import save_checkpoint
    from echo_cxr.model.bundle import ModelDefaults

    folder = save_checkpoint(replace(tiny_bundle, defaults=ModelDefaults(block_length=8, steps=1)), tmp_path / "m")
    code, _, err = run(capsys, ["generate", image_paths[0], "--model", str(folder), "--block-length", "4"])
    assert code == 2 and "trained with block length 8" in err
    record = run_json(capsys, [image_paths[0], "--model", str(folder), "--max-new-tokens", "9", "--json"])
    assert record["decoding"]["block_length"] == 8 and record["decoding"]["steps"] == 1
    assert run_json(capsys, [image_paths[0], "--model", str(folder), "--max-new-tokens", "9", "--decoder", "ar",
                             "--block-length", "1", "--json"])["stats"]["tokens_per_forward"] == 1.0


def test_generate_on_a_phantom_study_shows_its_truth(capsys, tmp_path):
    code, out, err = run(capsys, ["generate", "--phantom", "3", "--phantom-dir", str(tmp_path), "--model",
                                  "random:tiny", "--max-new-tokens", "4"])
    assert code == 0 and out.strip()
    assert (tmp_path / "phantom-s3-frontal.png").is_file()
    assert "truth: " in err and "reference report: Findings:" in err
    code, _, err = run(capsys, ["generate", "--phantom", "3", str(tmp_path / "phantom-s3-frontal.png")])
    assert code == 2 and "--phantom makes its own study" in err
