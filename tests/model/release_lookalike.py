"""Build folders laid out like the released Midea-AIRC/ECHO_* checkpoints, from a tiny model.

What the release has (METHOD.md section 2): Qwen2.5-VL weights under transformers 4.x names, a
config.json written by transformers 4.55 whose model_type/auto_map point at remote code, a
modeling file that imports flash-attn at module level, a Qwen tokenizer with <|MASK|>, an old-style
preprocessor_config.json and a generation config with two EOS ids.
"""

from __future__ import annotations

import json
from pathlib import Path

from safetensors.torch import save_file

REMOTE_CODE = '''import flash_attn  # the release imports flash-attn at module level
raise RuntimeError("remote code must never be executed by echo-cxr")
'''


def legacy_name(key: str) -> str:
    """5.x weight name -> the 4.x name used by the release."""
    if key.startswith("model.visual."):
        return key[len("model."):]
    if key.startswith("model.language_model."):
        return "model." + key[len("model.language_model."):]
    return key


def flat_config(bundle) -> dict:
    """A transformers-4.55-style config: text settings at the top level, remote-code pointers."""
    config = bundle.model.config
    text = config.text_config.to_dict()
    vision = config.vision_config.to_dict()
    vision["model_type"] = "qwen2_5_vl"  # 4.x wrote the parent's type here
    flat = {k: text[k] for k in (
        "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
        "num_key_value_heads", "hidden_act", "max_position_embeddings", "rms_norm_eps", "rope_parameters",
        "use_sliding_window", "sliding_window", "max_window_layers", "attention_dropout", "initializer_range",
    )}
    flat["rope_scaling"] = flat.pop("rope_parameters") | {"type": "mrope"}
    flat["rope_theta"] = flat["rope_scaling"].pop("rope_theta")
    flat.update(
        architectures=["EchoQwen2_5_VLForConditionalGeneration"],
        auto_map={"AutoConfig": "configuration_echo.EchoConfig", "AutoModelForCausalLM": "modeling_echo.EchoModel"},
        model_type="echo_qwen2_5_vl",
        transformers_version="4.55.4",
        torch_dtype="float32",
        image_token_id=config.image_token_id,
        video_token_id=config.video_token_id,
        vision_start_token_id=config.vision_start_token_id,
        vision_end_token_id=config.vision_end_token_id,
        tie_word_embeddings=False,
        vision_config=vision,
    )
    return flat


def write_release_lookalike(bundle, folder: Path, shards: int = 2, drop: str | None = None,
                            extra: str | None = None) -> Path:
    """Write ``bundle`` as a release-style folder; ``drop``/``extra`` corrupt it for error tests."""
    folder.mkdir(parents=True, exist_ok=True)
    state = {legacy_name(k): v.detach().clone().contiguous() for k, v in bundle.model.state_dict().items()}
    if drop:
        del state[drop]
    if extra:
        state[extra] = state["lm_head.weight"][:1].clone()
    keys = sorted(state)
    weight_map = {}
    for index in range(shards):
        name = f"model-{index + 1:05d}-of-{shards:05d}.safetensors"
        part = {k: state[k] for k in keys[index::shards]}
        save_file(part, str(folder / name), metadata={"format": "pt"})
        weight_map.update({k: name for k in part})
    (folder / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    (folder / "config.json").write_text(json.dumps(flat_config(bundle), indent=2))
    (folder / "modeling_echo.py").write_text(REMOTE_CODE)
    (folder / "configuration_echo.py").write_text(REMOTE_CODE)
    tokenizer = bundle.tokenizer
    tokenizer.save_pretrained(folder)
    tokenizer_config = json.loads((folder / "tokenizer_config.json").read_text())
    tokenizer_config.pop("mask_token", None)  # the release resolves <|MASK|> by its string
    (folder / "tokenizer_config.json").write_text(json.dumps(tokenizer_config))
    size = bundle.processor.image_processor.size
    (folder / "preprocessor_config.json").write_text(json.dumps({
        "image_processor_type": "Qwen2VLImageProcessor", "processor_class": "Qwen2_5_VLProcessor",
        "min_pixels": size["shortest_edge"], "max_pixels": size["longest_edge"], "patch_size": 14,
        "temporal_patch_size": 2, "merge_size": 2, "image_mean": [0.48145466, 0.4578275, 0.40821073],
        "image_std": [0.26862954, 0.26130258, 0.27577711], "do_resize": True, "do_normalize": True,
        "do_rescale": True, "do_convert_rgb": True, "rescale_factor": 1 / 255, "resample": 3,
    }))
    pad = bundle.special.pad
    (folder / "generation_config.json").write_text(json.dumps(
        {"eos_token_id": [bundle.special.eos[0], pad], "pad_token_id": pad, "transformers_version": "4.55.4"}
    ))
    return folder
