"""``load(spec)``: one entry for every kind of model (issue: core, Loading).

``spec`` is one of
- ``random:PRESET`` - random weights of a preset architecture (``--seed`` fixes them);
- ``builtin:NAME`` - a model shipped inside the package (model/builtin.py);
- a folder saved by echo-cxr (``save_checkpoint``), or laid out like the released
  ``Midea-AIRC/ECHO_*`` checkpoints (Qwen2.5-VL weights under 4.x or 5.x names, a config whose
  ``architectures``/``auto_map`` point at remote code). Both load natively: remote code is never
  imported nor asked for (every transformers loader here gets ``trust_remote_code=False``);
- a Hugging Face hub id, fetched when a network is available (offline: a clear error).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from echo_cxr.errors import EchoError
from echo_cxr.model.builtin import BUILTIN_PREFIX, builtin_folder
from echo_cxr.model.bundle import ECHO_CONFIG_KEY, LoadedModel, ModelDefaults, PREDICTION_MASKED
from echo_cxr.model.presets import RANDOM_PREFIX

DTYPES = ("float32", "bfloat16", "float16")
ATTENTION = ("sdpa", "eager", "flash_attention_2")
REMOTE_CONFIG_KEYS = ("auto_map", "architectures", "model_type", "transformers_version")
BLOCK_LENGTH_KEYS = ("block_length", "block_size", "bd_size")
TOKENIZER_FILES = ("tokenizer.json", "vocab.json", "tokenizer.model")  # fast, BPE, SentencePiece
_NAME_BLOCK = re.compile(r"block[_-]?(\d+)", re.IGNORECASE)


def resolve_device(device: str):
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError:
        raise EchoError(f"unknown device {device!r}; use cpu, cuda, cuda:N or auto") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise EchoError("CUDA was requested but no CUDA device is available")
    return resolved


def resolve_dtype(dtype: str):
    import torch

    if dtype not in DTYPES:
        raise EchoError(f"unknown dtype {dtype!r}; choose one of {', '.join(DTYPES)}")
    return getattr(torch, dtype)


def attention_setting(attention: str) -> dict:
    """Text model always SDPA/eager (block masks; SDPA as model/attention.py's grouped-head variant);
    flash-attn only for the vision tower, if installed."""
    from echo_cxr.model.attention import register

    if attention not in ATTENTION:
        raise EchoError(f"unknown attention {attention!r}; choose one of {', '.join(ATTENTION)}")
    if attention == "eager":
        return {"": attention, "text_config": attention, "vision_config": attention}
    text = register()
    if attention == "sdpa":
        return {"": attention, "text_config": text, "vision_config": attention}
    import importlib.util

    if importlib.util.find_spec("flash_attn") is None:
        raise EchoError("flash_attention_2 was asked for but the flash-attn package is not installed")
    return {"": "sdpa", "text_config": text, "vision_config": "flash_attention_2"}


def load(
    spec: str,
    *,
    device: str = "cpu",
    dtype: str = "float32",
    seed: int = 0,
    attention: str = "sdpa",
    max_pixels: int | None = None,
    quantize: str = "none",
) -> LoadedModel:
    """Load a model by spec; returns model (eval mode), processor, tokenizer and special ids.
    ``quantize="int8"`` / ``"bf16"``: reduced-precision linear layers in the language model (CPU,
    model/quantize.py); ``"auto"``: the format this CPU runs fastest (said on stderr), float32 on a GPU.
    The format used is ``bundle.quantize``. On a CPU, denormals are flushed to zero (``flush_denormals``)."""
    from echo_cxr.model.quantize import check_quantization, quantize_model

    check_quantization(quantize)  # before a possibly slow load
    torch_device, torch_dtype = resolve_device(device), resolve_dtype(dtype)
    attn = attention_setting(attention)
    if spec.startswith(RANDOM_PREFIX):
        from echo_cxr.model.random_init import build_random

        bundle = build_random(spec, torch_dtype, torch_device, seed, attn)
    else:
        folder = locate(spec)
        bundle = load_folder(folder, torch_dtype, torch_device, attn, name=spec)
    if max_pixels is not None:
        set_max_pixels(bundle.processor, max_pixels)
    if torch_device.type == "cpu":
        flush_denormals()
    return quantize_model(bundle, quantize)


def flush_denormals() -> None:
    """CPU arithmetic treats values below float32's smallest normal (1.2e-38) as zero, as oneDNN
    does: masked attention and SiLU produce such values, and their slow path cost a 0.5B decode on
    this project's CPUs up to a quarter of its speed (docs/benchmarks.md, section 0). Process-wide
    (torch.set_flush_denormal); a no-op where the CPU has no such mode."""
    import torch

    torch.set_flush_denormal(True)


def set_max_pixels(processor, max_pixels: int) -> None:
    """Image budget per view: width * height <= max_pixels after resizing."""
    if max_pixels <= 0:
        raise EchoError(f"max pixels must be positive, got {max_pixels}")
    processor.image_processor.size["longest_edge"] = max_pixels


def locate(spec: str) -> Path:
    """A local folder for ``spec``: the folder itself, or a hub snapshot (downloaded if online)."""
    if spec.startswith(BUILTIN_PREFIX):
        return builtin_folder(spec)
    path = Path(spec).expanduser()
    if path.exists():
        if not path.is_dir():
            raise EchoError(f"model path {path} is not a folder")
        return path
    if spec.count("/") != 1 or spec.startswith((".", "/")):
        raise EchoError(f"model {spec!r} is neither a folder nor a hub id (owner/name) nor random:PRESET nor builtin:NAME")
    return _hub_snapshot(spec)


def _hub_snapshot(repo_id: str) -> Path:
    from huggingface_hub import snapshot_download

    offline = os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False")
    try:
        return Path(snapshot_download(repo_id, local_files_only=offline))
    except Exception as err:  # hub errors come in many types; all mean "not available"
        reason = "offline (HF_HUB_OFFLINE=1) and not in the local Hugging Face cache" if offline else str(err)
        raise EchoError(
            f"model {repo_id!r} is not available: {reason.splitlines()[0]}; download it where a network "
            "is available (huggingface-cli download) or pass a local folder"
        ) from None


def read_config(folder: Path):
    """A ``Qwen2_5_VLConfig`` from config.json, ignoring remote-code pointers (never executed)."""
    from transformers import Qwen2_5_VLConfig

    config_path = folder / "config.json"
    if not config_path.is_file():
        raise EchoError(f"no config.json in {folder}")
    raw = json.loads(config_path.read_text())
    if "vision_config" not in raw:
        raise EchoError(f"{config_path} is not a Qwen2.5-VL config (no vision_config)")
    extras = {k: raw.pop(k) for k in REMOTE_CONFIG_KEYS if k in raw}
    if raw.get("use_sliding_window"):
        raise EchoError("sliding-window attention is not supported with block-diffusion masks")
    config = Qwen2_5_VLConfig.from_dict(raw)
    return config, raw, extras


def model_defaults(raw: dict, name: str) -> tuple[str, ModelDefaults, bool]:
    """Prediction convention and decoding defaults: echo-cxr's config section, else release hints."""
    section = raw.get(ECHO_CONFIG_KEY)
    if isinstance(section, dict):
        defaults = ModelDefaults(**section.get("decoding", {}), trained=True)
        return section.get("prediction", PREDICTION_MASKED), defaults, bool(section.get("synthetic", False))
    block = next((int(raw[k]) for k in BLOCK_LENGTH_KEYS if isinstance(raw.get(k), int)), None)
    found = _NAME_BLOCK.search(name)
    block = block or (int(found.group(1)) if found else ModelDefaults.block_length)
    one_step = "base" not in name.lower() and found is not None  # ECHO_blockN students decode in one step
    known = found is not None or any(isinstance(raw.get(k), int) for k in BLOCK_LENGTH_KEYS)
    return PREDICTION_MASKED, ModelDefaults(block_length=block, steps=1 if one_step else None, trained=known), False


def load_folder(folder: Path, dtype, device, attn, name: str) -> LoadedModel:
    """Load weights, processor and ids from a checkpoint folder without running its code."""
    from accelerate import init_empty_weights
    from transformers import GenerationConfig, Qwen2_5_VLForConditionalGeneration

    from echo_cxr.model.presets import check_fits
    from echo_cxr.model.special_tokens import resolve_special_ids
    from echo_cxr.model.weights import load_into, read_state_dict

    config, raw, _extras = read_config(folder)
    check_fits(config, dtype, device)
    processor = load_processor(folder)
    state = read_state_dict(folder, dtype)
    config._attn_implementation = attn
    config.dtype = dtype
    with init_empty_weights(include_buffers=False):
        model = Qwen2_5_VLForConditionalGeneration(config)
    load_into(model, state, folder)
    model = model.to(device).eval()
    generation = None
    if (folder / "generation_config.json").is_file():
        generation = GenerationConfig.from_pretrained(folder)
        model.generation_config = generation
    special = resolve_special_ids(config, processor.tokenizer, generation)
    prediction, defaults, synthetic = model_defaults(raw, name or folder.name)
    return LoadedModel(model, processor, processor.tokenizer, special, name, prediction, defaults, synthetic)


def load_processor(folder: Path):
    """``EchoProcessor`` from the folder's tokenizer and image-processor files (no torchvision)."""
    from echo_cxr.model.processor import EchoProcessor
    from echo_cxr.model.tiny import CHAT_TEMPLATE

    if not any((folder / name).is_file() for name in TOKENIZER_FILES):  # transformers would build an empty one
        raise EchoError(f"model folder {folder} has no tokenizer (none of {', '.join(TOKENIZER_FILES)})")
    try:
        processor = EchoProcessor.from_pretrained(folder, trust_remote_code=False)
    except (OSError, ValueError, TypeError) as err:
        raise EchoError(f"cannot load the processor/tokenizer from {folder}: {err}") from None
    if not getattr(processor, "chat_template", None):
        processor.chat_template = getattr(processor.tokenizer, "chat_template", None) or CHAT_TEMPLATE
    return processor
