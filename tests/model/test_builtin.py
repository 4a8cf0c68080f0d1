"""Models shipped inside the package (``builtin:NAME``) and the default model's choice."""

from __future__ import annotations

from dataclasses import replace

import pytest

from echo_cxr.errors import EchoError


@pytest.fixture
def package_dir(tmp_path, monkeypatch):
    from echo_cxr.model import builtin

    folder = tmp_path / "models"
    monkeypatch.setattr(builtin, "BUILTIN_DIR", folder)
    monkeypatch.delenv("ECHO_CXR_DEFAULT_MODEL", raising=False)
    return folder


def test_install_then_load_by_name(package_dir, tmp_path, tiny_bundle):
    import torch

    from echo_cxr.model import load, save_checkpoint
    from echo_cxr.model.builtin import DEFAULT_BUILTIN, available, install

    assert available() == []
    saved = save_checkpoint(replace(tiny_bundle, synthetic=True), tmp_path / "trained")
    install({DEFAULT_BUILTIN: saved})
    assert available() == [DEFAULT_BUILTIN]
    shipped = package_dir / DEFAULT_BUILTIN
    assert sorted(p.name for p in shipped.iterdir()) == sorted(p.name for p in saved.iterdir())
    bundle = load(f"builtin:{DEFAULT_BUILTIN}")
    assert bundle.synthetic
    for name, tensor in tiny_bundle.model.state_dict().items():
        assert torch.equal(bundle.model.state_dict()[name], tensor), name


def test_default_model_is_the_shipped_one_with_a_synthetic_notice(package_dir, tmp_path, tiny_bundle):
    from echo_cxr.model import save_checkpoint
    from echo_cxr.model.builtin import DEFAULT_BUILTIN, install
    from echo_cxr.pipeline import DEFAULT_MODEL_SPEC, default_model

    spec, notice = default_model()
    assert spec == DEFAULT_MODEL_SPEC and "random" in notice
    install({DEFAULT_BUILTIN: save_checkpoint(tiny_bundle, tmp_path / "trained")})
    spec, notice = default_model()
    assert spec == f"builtin:{DEFAULT_BUILTIN}" and "synthetic" in notice and "not for clinical use" in notice


def test_unknown_or_missing_builtin_is_a_clear_error(package_dir):
    from echo_cxr.model import load

    with pytest.raises(EchoError, match="unknown built-in model"):
        load("builtin:nope")
    with pytest.raises(EchoError, match="not installed"):
        load("builtin:phantom-base-blk8")


def test_phantom_training_from_scratch_marks_the_model_synthetic(tiny_bundle):
    from types import SimpleNamespace

    from echo_cxr.training.run_setup import synthetic_after

    phantom = [SimpleNamespace(sample_id="phantom-s1-train-000000-en")]
    real = [SimpleNamespace(sample_id="p10_s5")]
    scratch, finetune = SimpleNamespace(init="scratch"), SimpleNamespace(init="some/folder")
    assert synthetic_after(tiny_bundle, scratch, phantom)
    assert not synthetic_after(tiny_bundle, scratch, phantom + real)
    assert not synthetic_after(tiny_bundle, finetune, phantom)
    assert synthetic_after(replace(tiny_bundle, synthetic=True), finetune, real)


def test_the_environment_can_replace_the_default(monkeypatch):
    from echo_cxr.pipeline import default_model

    monkeypatch.setenv("ECHO_CXR_DEFAULT_MODEL", "random:tiny")
    spec, notice = default_model()
    assert spec == "random:tiny" and "ECHO_CXR_DEFAULT_MODEL" in notice


def test_the_shipped_models_are_what_save_checkpoint_writes_today(tmp_path):
    """The release's scripts run the shipped folders' remote code and read their files: re-saving a
    shipped model gives it back byte for byte, remote code included (re-save them after changing
    model/checkpoint.py, model/portable.py or the remote code)."""
    from echo_cxr.model import load, save_checkpoint
    from echo_cxr.model.builtin import BUILTIN_DIR, available
    from echo_cxr.model.checkpoint import SAVED_FILES

    if not available():
        pytest.skip("this copy of echo-cxr ships no built-in model")
    for name in available():
        shipped = BUILTIN_DIR / name
        assert sorted(p.name for p in shipped.iterdir()) == sorted(SAVED_FILES), name
        resaved = save_checkpoint(load(f"builtin:{name}"), tmp_path / name)
        for file in SAVED_FILES:
            assert (shipped / file).read_bytes() == (resaved / file).read_bytes(), f"{name}/{file} is stale"


def test_the_shipped_models_load_and_are_marked_synthetic(monkeypatch):
    from echo_cxr.model import load
    from echo_cxr.model.builtin import available

    if not available():
        pytest.skip("this copy of echo-cxr ships no built-in model")
    for name in available():
        bundle = load(f"builtin:{name}")
        assert bundle.synthetic and bundle.defaults.trained and bundle.defaults.block_length == 8
    assert load("builtin:phantom-echo-blk8").defaults.steps == 1
