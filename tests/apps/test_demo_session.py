"""The demo's logic without a browser: previews, phantom examples, frames of a growing report,
the AR run, errors shown in the page, HTML escaping."""

from __future__ import annotations

from dataclasses import replace
from html import escape

import pytest

from echo_cxr.apps.demo import DemoConfig, make_session
from echo_cxr.apps.demo.render import panel
from echo_cxr.apps.demo.runner import Frame
from echo_cxr.errors import EchoError

# inputs of DemoSession.run after the decoder: model, language, block, steps, strategy, tau, max new, slow ms
SETTINGS = ["random:tiny", "en", "8", "2", "model default", 0.85, 16, 0]


@pytest.fixture(scope="module")
def session(tiny, tmp_path_factory):
    config = DemoConfig(model="random:tiny", examples=2, workdir=str(tmp_path_factory.mktemp("demo")))
    return make_session(config, preloaded={"random:tiny": tiny}, notice=lambda _: None)


def expected(tiny, paths, decoder, **settings):
    from echo_cxr.apps.options import ReportOptions
    from echo_cxr.decoding import Study
    from echo_cxr.pipeline import generate_reports

    config = ReportOptions(decoder=decoder, max_new_tokens=16, **settings).decode_config(tiny)
    return generate_reports(tiny, [Study(list(paths))], config, decoder=decoder)[0]


def test_preview_and_phantom_examples(session, files, bad_files):
    paths, images, status = session.preview([files["frontal.png"], files["view.dcm"]])
    assert len(paths) == len(images) == 2 and images[1].mode == "RGB" and "2 view(s) ready" in status
    assert session.preview([bad_files["truncated.png"][0]])[2].startswith("**error:** cannot read image")
    assert [e.name.split(":")[0] for e in session.examples] == ["phantom #1", "phantom #2"]
    paths, images, status, truth = session.pick_example(session.examples[0].name)
    assert paths and len(images) == len(paths) and truth.startswith("Findings:")


def test_frames_grow_block_by_block_to_the_cli_report(session, tiny, files):
    frames = list(session_frames(session, "blockwise", [files["frontal.png"]]))
    record = expected(tiny, [files["frontal.png"]], "blockwise", block_length=8, steps=2)
    running = [html for html, _ in frames if 'data-state="running"' in html]
    assert running and any("echo-masked" in html for html in running) and any("echo-new" in html for html in running)
    final, stats = frames[-1]
    assert 'data-state="done"' in final and f'<div class="echo-final">{escape(record["report"])}</div>' in final
    assert f"<td>forward passes</td><td><b>{record['stats']['forward_passes']}</b>" in stats


def test_ar_side_by_side_needs_one_forward_per_token(session, tiny, files):
    final, stats = list(session_frames(session, "ar", [files["frontal.png"]]))[-1]
    record = expected(tiny, [files["frontal.png"]], "ar", block_length=1, steps=1)
    assert escape(record["report"]) in final and 'id="echo-ar"' in final
    tokens = record["stats"]["new_tokens"]
    assert f"<td>forward passes AR would need</td><td><b>{tokens}</b>" in stats


def test_errors_are_shown_in_the_page(session, tiny, files, tmp_path):
    final, _ = list(session.run("blockwise", [], *SETTINGS))[-1]
    assert 'data-state="error"' in final and "upload the study" in final
    final, _ = list(session.run("blockwise", [files["frontal.png"]], str(tmp_path / "nowhere"), *SETTINGS[1:]))[-1]
    assert 'data-state="error"' in final and "neither a folder nor a hub id" in final
    trained = replace(tiny, defaults=replace(tiny.defaults, block_length=4, trained=True))
    config = DemoConfig(model="trained", examples=0, workdir=str(tmp_path))
    strict = make_session(config, preloaded={"trained": trained}, notice=lambda _: None)
    final, _ = list(strict.run("blockwise", [files["frontal.png"]], "trained", *SETTINGS[1:]))[-1]
    assert "trained with block length 4" in final and "Traceback" not in final


def test_panel_escapes_and_config_is_validated():
    frame = Frame("<script>alert(1)</script>", done=True)
    assert "<script>" not in panel("p", frame) and "&lt;script&gt;" in panel("p", frame)
    with pytest.raises(EchoError, match="slow motion"):
        DemoConfig(slow_motion_ms=-1)
    with pytest.raises(EchoError, match="unknown strategy"):
        DemoConfig(strategy="bogus")


def session_frames(session, decoder, paths):
    yield from session.run(decoder, paths, *SETTINGS)
