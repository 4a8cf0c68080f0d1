import json
import os
from dataclasses import replace

import pytest
import torch

from echo_cxr.decoding import DecodeConfig, generate
from echo_cxr.errors import EchoError
from echo_cxr.model import load, save_checkpoint
from echo_cxr.model.bundle import ModelDefaults
from tests.model.release_lookalike import NAMINGS, SENTINEL, legacy_name, write_release_lookalike

CONFIG = DecodeConfig(block_length=4, steps=2, max_new_tokens=13)


def decoded(bundle, studies, config=CONFIG):
    return [r.raw_token_ids for r in generate(bundle, studies, config)]


def assert_same_weights(a, b):
    state_b = b.state_dict()
    for key, value in a.state_dict().items():
        assert torch.equal(value, state_b[key]), key


def test_own_checkpoint_round_trip(tiny_bundle, studies, tmp_path):
    bundle = replace(tiny_bundle, defaults=ModelDefaults(block_length=8, steps=1), synthetic=True)
    folder = save_checkpoint(bundle, tmp_path / "ckpt")
    assert (folder / "model.safetensors").is_file()
    loaded = load(str(folder))
    assert_same_weights(bundle.model, loaded.model)
    assert loaded.special == bundle.special
    assert loaded.defaults == ModelDefaults(block_length=8, steps=1, trained=True) and loaded.synthetic
    assert decoded(loaded, studies) == decoded(tiny_bundle, studies)
    with pytest.raises(EchoError, match="not empty"):
        save_checkpoint(bundle, folder)


@pytest.mark.parametrize("naming", NAMINGS)
def test_release_lookalike_loads_natively_without_remote_code(tiny_bundle, studies, tmp_path, naming):
    folder = write_release_lookalike(tiny_bundle, tmp_path / "ECHO_block8", naming=naming)
    config = json.loads((folder / "config.json").read_text())
    assert "auto_map" in config and config["text_config"]["rope_scaling"]["type"] == "default"
    loaded = load(str(folder))
    assert not (folder / SENTINEL).exists(), "the folder's remote code was imported"
    assert_same_weights(tiny_bundle.model, loaded.model)
    assert loaded.special.mask == tiny_bundle.special.mask
    assert loaded.special.eos == (tiny_bundle.special.eos[0], tiny_bundle.special.pad)
    assert loaded.defaults.block_length == 8 and loaded.defaults.steps == 1
    assert decoded(loaded, studies) == decoded(tiny_bundle, studies)


def test_base_checkpoint_name_means_multi_step(tiny_bundle, tmp_path):
    loaded = load(str(write_release_lookalike(tiny_bundle, tmp_path / "ECHO_Base_block4", shards=1)))
    assert loaded.defaults.block_length == 4 and loaded.defaults.steps is None


def test_legacy_and_new_names_are_both_accepted(tiny_bundle, tmp_path):
    from echo_cxr.model.weights import canonical_key

    for key in tiny_bundle.model.state_dict():
        assert canonical_key(legacy_name(key)) == key
        assert canonical_key(key) == key


def test_missing_weight_is_an_error_naming_it(tiny_bundle, tmp_path):
    dropped = "model.layers.1.mlp.up_proj.weight"
    folder = write_release_lookalike(tiny_bundle, tmp_path / "broken", drop=dropped)
    with pytest.raises(EchoError, match=r"missing weights: model\.language_model\.layers\.1\.mlp\.up_proj\.weight"):
        load(str(folder))


def test_unexpected_weight_is_an_error_naming_it(tiny_bundle, tmp_path):
    folder = write_release_lookalike(tiny_bundle, tmp_path / "extra", extra="lm_head.extra")
    with pytest.raises(EchoError, match=r"unexpected weights: lm_head\.extra"):
        load(str(folder))


def test_folder_without_weights_or_mask_token(tiny_bundle, tmp_path):
    folder = write_release_lookalike(tiny_bundle, tmp_path / "noweights")
    for path in folder.glob("*.safetensors"):
        path.unlink()
    (folder / "model.safetensors.index.json").unlink()
    with pytest.raises(EchoError, match="no weights"):
        load(str(folder))

    folder = write_release_lookalike(tiny_bundle, tmp_path / "nomask")
    vocab = json.loads((folder / "tokenizer.json").read_text())
    vocab["added_tokens"] = [t for t in vocab["added_tokens"] if t["content"] != "<|MASK|>"]
    vocab["model"]["vocab"] = {k: v for k, v in vocab["model"]["vocab"].items() if k != "<|MASK|>"}
    (folder / "tokenizer.json").write_text(json.dumps(vocab))
    (folder / "vocab.json").write_text(json.dumps(vocab["model"]["vocab"]))
    tokenizer_config = json.loads((folder / "tokenizer_config.json").read_text())
    tokenizer_config["added_tokens_decoder"] = {
        k: v for k, v in tokenizer_config["added_tokens_decoder"].items() if v["content"] != "<|MASK|>"}
    (folder / "tokenizer_config.json").write_text(json.dumps(tokenizer_config))
    with pytest.raises(EchoError, match="no mask token"):
        load(str(folder))


def test_hub_id_offline_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(EchoError, match="not available: offline"):
        load("Midea-AIRC/ECHO_block8")


def test_unknown_preset_and_oversized_preset_are_refused():
    with pytest.raises(EchoError, match="unknown random preset"):
        load("random:huge")
    with pytest.raises(EchoError, match="GiB"):
        load("random:7b", dtype="float32")  # 8.3B parameters in fp32 do not fit in this machine's RAM


@pytest.mark.parametrize("steps", [1, 4])
def test_release_calling_convention_through_remote_code(tiny_bundle, studies, tmp_path, steps):
    from transformers import AutoModelForCausalLM, AutoProcessor

    from echo_cxr.model.inputs import chat_messages
    from tests.compat.release_client import decode_blocks

    folder = save_checkpoint(tiny_bundle, tmp_path / f"remote{steps}")
    model = AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=True).eval()
    processor = AutoProcessor.from_pretrained(folder, trust_remote_code=True)
    assert type(model).__name__ == "EchoForConditionalGeneration"
    study = studies[1]  # two images
    text = processor.apply_chat_template(chat_messages(2, study.instruction), add_generation_prompt=True,
                                         tokenize=False)
    from echo_cxr.imaging import load_image

    inputs = processor(text=[text], images=[load_image(i) for i in study.images], return_tensors="pt")
    config = DecodeConfig(block_length=4, steps=steps, max_new_tokens=13, threshold=0.5)
    special = tiny_bundle.special
    theirs = decode_blocks(model, inputs, special.mask, special.eos, 4, steps, 13, 0.5, fused=steps == 1)
    ours = generate(tiny_bundle, [study], config)[0].raw_token_ids
    assert theirs == ours


def test_saving_a_loaded_checkpoint_writes_the_same_files(tiny_bundle, tmp_path):
    """The portable spellings survive a load: a re-save is byte-identical (the shipped models are re-saves)."""
    first = save_checkpoint(tiny_bundle, tmp_path / "first")
    second = save_checkpoint(load(str(first)), tmp_path / "second")
    assert sorted(p.name for p in first.iterdir()) == sorted(p.name for p in second.iterdir())
    for path in first.iterdir():
        assert path.read_bytes() == (second / path.name).read_bytes(), path.name


def test_saved_config_carries_both_spellings(tiny_bundle, tmp_path):
    """4.x reads rope_scaling / rope_theta / torch_dtype, 5.x rope_parameters / dtype (model/portable.py)."""
    folder = save_checkpoint(tiny_bundle, tmp_path / "ckpt")
    text = json.loads((folder / "config.json").read_text())["text_config"]
    rope = tiny_bundle.model.config.text_config.rope_parameters
    assert text["rope_scaling"] == {"mrope_section": rope["mrope_section"], "type": "default", "rope_type": "default"}
    assert text["rope_theta"] == rope["rope_theta"] and text["torch_dtype"] == text["dtype"] == "float32"
    tokenizer_config = json.loads((folder / "tokenizer_config.json").read_text())
    assert tokenizer_config["tokenizer_class"] == "PreTrainedTokenizerFast"
    assert not {"is_local", "local_files_only"} & tokenizer_config.keys()
    preprocessor = json.loads((folder / "preprocessor_config.json").read_text())
    assert preprocessor["auto_map"] == {"AutoProcessor": "processing_echo.EchoProcessor"}
    assert preprocessor["max_pixels"] == preprocessor["size"]["longest_edge"]
    assert not (folder / "processor_config.json").exists()  # 4.x rejects its nested image processor


def test_loading_on_a_cpu_flushes_denormals(tiny_bundle):
    assert tiny_bundle.device.type == "cpu"
    assert (torch.tensor([1e-39]) * 1.0).item() == 0.0  # a denormal input reads as zero
