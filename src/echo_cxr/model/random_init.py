"""``random:PRESET`` models: preset architecture, seeded random weights, built-in tokenizer."""

from __future__ import annotations

import torch

from echo_cxr.model.bundle import LoadedModel, ModelDefaults
from echo_cxr.model.presets import PRESETS, TextShape, VisionShape, check_fits, parse_random_spec, qwen_config
from echo_cxr.model.special_tokens import resolve_special_ids
from echo_cxr.model.tiny import build_processor, train_tokenizer


def build_random(spec: str, dtype, device, seed: int, attn) -> LoadedModel:
    """A ``random:PRESET`` model with the built-in tokenizer."""
    preset = PRESETS[parse_random_spec(spec)]
    return new_model(spec, train_tokenizer(), preset.text, preset.vision, preset.max_pixels, seed=seed,
                     dtype=dtype, device=device, attn=attn)


def new_model(name: str, tokenizer, text: TextShape, vision: VisionShape, max_pixels: int, *, seed: int = 0,
              dtype=torch.float32, device=torch.device("cpu"), attn="sdpa") -> LoadedModel:
    """A freshly initialised model of any shape (weights from ``seed``, drawn on ``device``: CPU and
    CUDA draws differ). Training from scratch starts here with its own tokenizer."""
    from transformers import Qwen2_5_VLForConditionalGeneration

    config = qwen_config(text, vision, tokenizer)
    check_fits(config, dtype, device)
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices), torch.device(device):
        torch.manual_seed(seed)
        model = Qwen2_5_VLForConditionalGeneration._from_config(config, dtype=dtype, attn_implementation=attn)
    model.eval()
    processor = build_processor(tokenizer, max_pixels, patch_size=vision.patch_size,
                                merge_size=vision.spatial_merge_size)
    special = resolve_special_ids(config, tokenizer)
    return LoadedModel(model, processor, tokenizer, special, name, defaults=ModelDefaults())
