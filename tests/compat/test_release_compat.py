"""echo-cxr checkpoints under the ECHO release's own toolchain (marker ``compat``; issue 14).

``scripts/release-compat.sh`` makes one virtual environment per release transformers version
(4.55.4 for the release's inference scripts, 4.57.1 for its evaluation; torch 2.13.0 CPU) under
``.venv-compat/`` and runs this module. In each, ``tests/compat/release_client.py`` - the release's
documented calling convention, Auto classes with ``trust_remote_code=True`` - decodes echo-cxr
checkpoints, and its reports must be token-identical to ``echo-cxr generate`` here on 5.x: one-step
fused and multi-step ``low_confidence_dynamic``, EN and ZH, one and two images, at the release's
image budget (2,250,000 pixels) and at the model's own. The same client also runs on this 5.x.

The look-alike release checkpoints of the tests are checked against what 4.55.4 itself writes.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
CLIENT = Path(__file__).with_name("release_client.py")
RESAVE = Path(__file__).with_name("stock_resave.py")
VENVS = Path(os.environ.get("ECHO_COMPAT_VENVS", ROOT / ".venv-compat"))
RELEASE_VERSIONS = tuple(os.environ.get("RELEASE_TRANSFORMERS", "4.55.4 4.57.1").split())  # as the script
CURRENT = "current"  # the 5.x of this environment
REQUIRED = os.environ.get("ECHO_COMPAT_REQUIRED") == "1"  # set by the script: a missing venv fails
RELEASE_MAX_PIXELS = 2_250_000
THRESHOLD = 0.85
TINY_BLOCK, TINY_NEW_TOKENS = 4, 24
PHANTOM_SEED = 7
CLIENT_TIMEOUT_S = 900
LOOKALIKE_OWN_KEYS = ("architectures",)  # the release's remote class; 4.55 writes the stock one

pytestmark = pytest.mark.compat


def venv_python(version: str) -> str:
    if version == CURRENT:
        return sys.executable
    python = VENVS / f"tf-{version}" / "bin" / "python"
    if not python.is_file():
        message = f"no venv for transformers {version} at {python}; run scripts/release-compat.sh"
        pytest.fail(message) if REQUIRED else pytest.skip(message)
    return str(python)


def run_python(version: str, *args: str) -> None:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONPATH="")
    done = subprocess.run([venv_python(version), *args], env=env, capture_output=True, text=True,
                          timeout=CLIENT_TIMEOUT_S)
    assert done.returncode == 0, f"{args[0]} under transformers {version} failed:\n{done.stderr[-4000:]}"


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("compat")


@pytest.fixture(scope="module")
def checkpoints(work):
    """name -> (folder, block length, new-token budget, few jobs): echo-cxr-saved and shipped models.
    The shipped ECHO model is what ``save_checkpoint`` writes for it (the saved one, checked in full)."""
    from echo_cxr.model import load, save_checkpoint
    from echo_cxr.model.builtin import BUILTIN_DIR
    from echo_cxr.model.bundle import ModelDefaults
    from tests.conftest import PEAK_SCALE

    tiny = load("random:tiny", seed=1)
    with torch.no_grad():
        tiny.model.lm_head.weight.mul_(PEAK_SCALE)  # separated confidences, as in the unit tests
    tiny = replace(tiny, defaults=ModelDefaults(block_length=TINY_BLOCK, steps=1, trained=True))
    budget = 512
    return {
        "tiny-saved": (save_checkpoint(tiny, work / "tiny"), TINY_BLOCK, TINY_NEW_TOKENS, False),
        "phantom-echo-blk8-saved": (save_checkpoint(load("builtin:phantom-echo-blk8"), work / "echo8"), 8, budget,
                                    False),
        "phantom-base-blk8-shipped": (BUILTIN_DIR / "phantom-base-blk8", 8, budget, False),
        "phantom-echo-blk8-shipped": (BUILTIN_DIR / "phantom-echo-blk8", 8, budget, True),
    }


@pytest.fixture(scope="module")
def views(work):
    from echo_cxr.phantom.single import write_single_study

    return [str(p) for p in write_single_study(PHANTOM_SEED, work / "study", lateral=True).paths]


def jobs_for(folder: Path, block: int, budget: int, views: list[str], few: bool = False) -> list[dict]:
    """The matrix: one-step fused / multi-step x EN / ZH x one / two images at the release's budget,
    plus two jobs at the model's own image budget. ``few``: only two of them (a model whose files are
    those of another one checked in full)."""
    own = json.loads((folder / "preprocessor_config.json").read_text())["max_pixels"]
    jobs = [{"images": images, "lang": lang, "block_length": block, "steps": steps, "threshold": THRESHOLD,
             "max_new_tokens": budget, "max_pixels": RELEASE_MAX_PIXELS}
            for steps in (1, block) for lang in ("en", "zh") for images in (views[:1], views)]
    jobs.append(jobs[0] | {"max_pixels": own})
    jobs.append(jobs[-2] | {"max_pixels": own})
    return [jobs[0], jobs[7]] if few else jobs


def echo_generate(folder: Path, job: dict) -> dict:
    """``echo-cxr generate --json`` with the job's settings, run in-process."""
    from echo_cxr.cli import main

    args = ["generate", *job["images"], "--model", str(folder), "--json", "--lang", job["lang"],
            "--steps", str(job["steps"]), "--strategy", "low_confidence_dynamic", "--threshold", str(job["threshold"]),
            "--max-new-tokens", str(job["max_new_tokens"]), "--max-pixels", str(job["max_pixels"])]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), pytest.raises(SystemExit) as done:
        main(args)
    assert done.value.code == 0, err.getvalue()
    return json.loads(out.getvalue())


_ECHO_RESULTS: dict[str, list[dict]] = {}


def echo_results(name: str, folder: Path, jobs: list[dict]) -> list[dict]:
    if name not in _ECHO_RESULTS:
        _ECHO_RESULTS[name] = [echo_generate(folder, job) for job in jobs]
    return _ECHO_RESULTS[name]


def mismatch(job: dict, ours: dict, theirs: dict) -> str | None:
    """Why the client's report differs from echo-cxr's, or None. A run that reached EOS must match
    exactly (ids and text); one cut by the token budget must match on the first ``budget`` ids (the
    release decodes to the end of its canvas, echo-cxr stops at the budget)."""
    if ours["finish_reason"] == "eos":
        same = theirs["token_ids"] == ours["token_ids"] and theirs["report"] == ours["report"]
    else:
        same = theirs["token_ids"][: job["max_new_tokens"]] == ours["token_ids"]
    if same:
        return None
    setting = {k: job[k] for k in ("lang", "steps", "max_pixels")} | {"images": len(job["images"])}
    return f"{setting}: echo-cxr {ours['token_ids']!r} / {ours['report']!r} vs client {theirs['token_ids']!r} / {theirs['report']!r}"


@pytest.mark.parametrize("version", [*RELEASE_VERSIONS, CURRENT])
@pytest.mark.parametrize("name", ["tiny-saved", "phantom-echo-blk8-saved", "phantom-base-blk8-shipped",
                                  "phantom-echo-blk8-shipped"])
def test_release_client_reports_match_echo_cxr_generate(checkpoints, views, work, version, name):
    folder, block, budget, few = checkpoints[name]
    jobs = jobs_for(folder, block, budget, views, few)
    job_file, out_file = work / f"{name}-jobs.json", work / f"{name}-{version}.jsonl"
    job_file.write_text(json.dumps(jobs))
    run_python(version, str(CLIENT), "--model", str(folder), "--jobs", str(job_file), "--out", str(out_file))
    theirs = [json.loads(line) for line in out_file.read_text().splitlines()]
    assert len(theirs) == len(jobs)
    if version != CURRENT:
        assert {t["transformers"] for t in theirs} == {version}
    ours = echo_results(name, folder, jobs)
    assert any(o["finish_reason"] == "eos" for o in ours) or name.startswith("tiny"), "no run reached EOS"
    problems = [p for p in (mismatch(j, o, t) for j, o, t in zip(jobs, ours, theirs)) if p]
    assert not problems, f"{len(problems)} of {len(jobs)} reports differ under {version}:\n" + "\n".join(problems)


def test_release_lookalike_is_what_transformers_4_55_writes(tiny_bundle, tmp_path):
    """Re-saving the look-alike with the stock 4.55.4 classes changes no file (but the release's
    remote class name) and no weight, for each weight-name era."""
    from safetensors.torch import load_file

    from tests.model.release_lookalike import NAMINGS, legacy_name, write_release_lookalike

    for naming in NAMINGS:
        folder = write_release_lookalike(tiny_bundle, tmp_path / naming, shards=1, naming=naming)
        resaved = tmp_path / f"{naming}-resaved"
        run_python(RELEASE_VERSIONS[0], str(RESAVE), str(folder), str(resaved))
        for path in sorted(resaved.glob("*.json")):
            mine, theirs = json.loads((folder / path.name).read_text()), json.loads(path.read_text())
            for key in LOOKALIKE_OWN_KEYS if path.name == "config.json" else ():
                mine.pop(key), theirs.pop(key)
            assert mine == theirs, path.name
        for name in ("vocab.json", "merges.txt", "chat_template.jinja"):
            assert (folder / name).read_bytes() == (resaved / name).read_bytes(), name
        written = load_file(str(resaved / "model.safetensors"))
        for key, tensor in tiny_bundle.model.state_dict().items():
            assert torch.equal(written[legacy_name(key)], tensor), key  # 4.55 writes the 4.x names
