"""``random:PRESET`` models: preset architecture, seeded random weights, built-in tokenizer."""

from __future__ import annotations

import torch

from echo_cxr.model.bundle import LoadedModel, ModelDefaults
from echo_cxr.model.presets import PRESETS, check_fits, parse_random_spec, preset_config
from echo_cxr.model.special_tokens import resolve_special_ids
from echo_cxr.model.tiny import build_processor, train_tokenizer


def build_random(spec: str, dtype, device, seed: int, attn) -> LoadedModel:
    """Random weights from ``seed`` (initialised on ``device``: CPU and CUDA draws differ)."""
    from transformers import Qwen2_5_VLForConditionalGeneration

    name = parse_random_spec(spec)
    tokenizer = train_tokenizer()
    config = preset_config(name, tokenizer)
    check_fits(config, dtype, device)
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices), torch.device(device):
        torch.manual_seed(seed)
        model = Qwen2_5_VLForConditionalGeneration._from_config(config, dtype=dtype, attn_implementation=attn)
    model.eval()
    processor = build_processor(tokenizer, PRESETS[name].max_pixels)
    special = resolve_special_ids(config, tokenizer)
    return LoadedModel(model, processor, tokenizer, special, spec, defaults=ModelDefaults())
