"""Build folders laid out like the released Midea-AIRC/ECHO_* checkpoints, from a tiny model.

The layout is what transformers 4.55.4 writes for a Qwen2.5-VL model and its processor (checked
against a real 4.55.4 re-save by ``tests/compat/test_release_compat.py``): a nested
``text_config`` with ``rope_scaling`` of type ``default`` and ``rope_theta``, ``torch_dtype``, the
tokenizer as ``Qwen2Tokenizer`` (tokenizer.json, vocab.json, merges.txt, tokenizer_config.json,
special_tokens_map.json, chat_template.jinja), ``preprocessor_config.json`` and
``video_preprocessor_config.json``. On top of that the release's own parts: a config whose
architectures/auto_map point at remote code, a modeling file, a generation config with two EOS ids.

Weights come under one naming per era: ``"4.x"`` (``model.layers.*``, ``visual.*``: what 4.x and 5.x
save_pretrained write, and what the release ships) or ``"5.x"`` (the 5.x module names).

The remote code here writes a sentinel file and raises when imported, so a test can prove it never
ran. (The release's file imports flash-attn at module level; transformers would refuse such a file
before running it, which would hide an import.)
"""

from __future__ import annotations

import json
from pathlib import Path

from safetensors.torch import save_file

SENTINEL = "REMOTE_CODE_RAN"
REMOTE_CODE = '''from pathlib import Path
Path({sentinel!r}).write_text("imported")
raise RuntimeError("remote code must never be executed by echo-cxr")
'''
RELEASE_VERSION = "4.55.4"
NAMINGS = ("4.x", "5.x")
TOKEN_KEYS = ("bos_token_id", "eos_token_id", "pad_token_id")  # written when set
TEXT_KEYS = ("attention_dropout", "hidden_act", "hidden_size", "initializer_range",
             "intermediate_size", "layer_types", "max_position_embeddings", "max_window_layers", "num_attention_heads",
             "num_hidden_layers", "num_key_value_heads", "rms_norm_eps", "sliding_window", "use_cache",
             "use_sliding_window", "vocab_size")
VISION_KEYS = ("depth", "fullatt_block_indexes", "hidden_act", "hidden_size", "in_channels", "initializer_range",
               "intermediate_size", "num_heads", "out_hidden_size", "patch_size", "spatial_merge_size",
               "temporal_patch_size", "tokens_per_second", "window_size")
IMAGE_MEAN = [0.48145466, 0.4578275, 0.40821073]
IMAGE_STD = [0.26862954, 0.26130258, 0.27577711]
RESCALE = 1 / 255
BICUBIC = 3
# what 4.55.4 writes for a default Qwen2VLVideoProcessor (the release has it; echo-cxr ignores it)
VIDEO_PROCESSOR = {
    "crop_size": None, "data_format": "channels_first", "default_to_square": True, "device": None,
    "do_center_crop": None, "do_convert_rgb": True, "do_normalize": True, "do_pad": None, "do_rescale": True,
    "do_resize": True, "do_sample_frames": False, "fps": None, "image_mean": IMAGE_MEAN, "image_std": IMAGE_STD,
    "input_data_format": None, "max_frames": 768, "max_pixels": None, "merge_size": 2, "min_frames": 4,
    "min_pixels": None, "num_frames": None, "patch_size": 14, "processor_class": "Qwen2_5_VLProcessor",
    "resample": BICUBIC, "rescale_factor": RESCALE, "size": {"longest_edge": 602112, "shortest_edge": 100352},
    "size_divisor": None, "temporal_patch_size": 2, "video_metadata": None, "video_processor_type": "Qwen2VLVideoProcessor",
}


def legacy_name(key: str) -> str:
    """5.x weight name -> the 4.x name used by the release."""
    if key.startswith("model.visual."):
        return key[len("model."):]
    if key.startswith("model.language_model."):
        return "model." + key[len("model.language_model."):]
    return key


def release_config(bundle) -> dict:
    """config.json as 4.55.4 writes it, with the release's remote-code pointers."""
    config = bundle.model.config
    text5, vision5 = config.text_config.to_dict(), config.vision_config.to_dict()
    rope = dict(text5["rope_parameters"])
    text = {k: text5[k] for k in TEXT_KEYS} | {k: text5[k] for k in TOKEN_KEYS if text5.get(k) is not None}
    text.update(model_type="qwen2_5_vl_text", torch_dtype="float32", image_token_id=None, video_token_id=None,
                rope_theta=rope.pop("rope_theta"),
                rope_scaling={"mrope_section": rope["mrope_section"], "rope_type": "default", "type": "default"})
    vision = {k: vision5[k] for k in VISION_KEYS} | {"model_type": "qwen2_5_vl",  # 4.x wrote the parent's type
                                                      "torch_dtype": "float32"}
    return {
        "architectures": ["EchoQwen2_5_VLForConditionalGeneration"],
        "auto_map": {"AutoConfig": "configuration_echo.EchoConfig", "AutoModelForCausalLM": "modeling_echo.EchoModel"},
        "image_token_id": config.image_token_id,
        "model_type": "qwen2_5_vl",  # a remote config subclass keeps the stock type (4.x reads nothing else)
        "text_config": dict(sorted(text.items())),
        "torch_dtype": "float32",
        "transformers_version": RELEASE_VERSION,
        "video_token_id": config.video_token_id,
        "vision_config": vision,
        "vision_end_token_id": config.vision_end_token_id,
        "vision_start_token_id": config.vision_start_token_id,
    }


def write_weights(bundle, folder: Path, shards: int, naming: str, drop: str | None, extra: str | None) -> None:
    rename = legacy_name if naming == "4.x" else (lambda key: key)
    state = {rename(k): v.detach().clone().contiguous() for k, v in bundle.model.state_dict().items()}
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
    index = {"metadata": {"total_size": sum(t.numel() * t.element_size() for t in state.values())},
             "weight_map": dict(sorted(weight_map.items()))}
    _write(folder / "model.safetensors.index.json", index)


def _write(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n")


def _special(content: str) -> dict:
    return {"content": content, "lstrip": False, "normalized": False, "rstrip": False, "single_word": False}


def write_tokenizer(tokenizer, folder: Path) -> None:
    """The Qwen2Tokenizer files 4.55.4 writes (the release resolves <|MASK|> by its string: no mask_token)."""
    (folder / "tokenizer.json").write_text(tokenizer.backend_tokenizer.to_str(pretty=True))
    model = json.loads(tokenizer.backend_tokenizer.to_str())["model"]
    (folder / "vocab.json").write_text(json.dumps(model["vocab"], ensure_ascii=False, separators=(",", ":")))
    merges = [" ".join(m) if isinstance(m, list) else m for m in model["merges"]]
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    added = {str(i): _special(t.content) | {"special": t.special} for i, t in tokenizer.added_tokens_decoder.items()}
    eos, pad = tokenizer.eos_token, tokenizer.pad_token
    _write(folder / "tokenizer_config.json", {
        "added_tokens_decoder": added, "bos_token": None, "clean_up_tokenization_spaces": False,
        "eos_token": eos, "errors": "replace", "extra_special_tokens": {}, "model_max_length": 32768,
        "pad_token": pad, "processor_class": "Qwen2_5_VLProcessor", "split_special_tokens": False,
        "tokenizer_class": "Qwen2Tokenizer", "unk_token": None,
    })
    _write(folder / "special_tokens_map.json", {"eos_token": _special(eos), "pad_token": _special(pad)})
    (folder / "chat_template.jinja").write_text(tokenizer.chat_template)


def write_image_processors(bundle, folder: Path) -> None:
    size = dict(bundle.processor.image_processor.size)
    _write(folder / "preprocessor_config.json", {
        "do_convert_rgb": True, "do_normalize": True, "do_rescale": True, "do_resize": True, "image_mean": IMAGE_MEAN,
        "image_processor_type": "Qwen2VLImageProcessor", "image_std": IMAGE_STD, "max_pixels": size["longest_edge"],
        "merge_size": 2, "min_pixels": size["shortest_edge"], "patch_size": 14,
        "processor_class": "Qwen2_5_VLProcessor", "resample": BICUBIC, "rescale_factor": RESCALE, "size": size,
        "temporal_patch_size": 2,
    })
    _write(folder / "video_preprocessor_config.json", VIDEO_PROCESSOR)


def write_release_lookalike(bundle, folder: Path, shards: int = 2, drop: str | None = None,
                            extra: str | None = None, naming: str = "4.x") -> Path:
    """Write ``bundle`` as a release-style folder; ``drop``/``extra`` corrupt it for error tests."""
    if naming not in NAMINGS:
        raise ValueError(f"naming is one of {NAMINGS}")
    folder.mkdir(parents=True, exist_ok=True)
    write_weights(bundle, folder, shards, naming, drop, extra)
    _write(folder / "config.json", release_config(bundle))
    for name in ("modeling_echo.py", "configuration_echo.py"):
        (folder / name).write_text(REMOTE_CODE.format(sentinel=str(folder / SENTINEL)))
    write_tokenizer(bundle.tokenizer, folder)
    write_image_processors(bundle, folder)
    pad = bundle.special.pad
    _write(folder / "generation_config.json", {
        "_from_model_config": True, "eos_token_id": [bundle.special.eos[0], pad], "pad_token_id": pad,
        "transformers_version": RELEASE_VERSION,
    })
    return folder
