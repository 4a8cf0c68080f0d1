"""Random-init architecture presets (``random:tiny``, ``random:0.5b``, ``random:7b``).

For smoke tests and speed work: the real Qwen2.5-VL architecture at a chosen size, random weights
from ``--seed``, the small built-in tokenizer. A preset that does not fit in memory with the chosen
dtype and device is refused before any allocation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from echo_cxr.errors import EchoError

RANDOM_PREFIX = "random:"
# Memory needed beyond the weights (activations, KV cache, allocator slack), as a fraction.
MEMORY_HEADROOM = 0.25


@dataclass(frozen=True)
class TextShape:
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    mrope_section: tuple[int, int, int]
    rope_theta: float
    vocab_size: int | None  # None: the tokenizer's size
    tie_word_embeddings: bool


@dataclass(frozen=True)
class VisionShape:
    depth: int
    hidden_size: int
    intermediate_size: int
    num_heads: int
    fullatt_block_indexes: tuple[int, ...]
    window_size: int = 112
    tokens_per_second: int = 2
    patch_size: int = 14  # the processor is built with the same patch and merge sizes
    spatial_merge_size: int = 2


@dataclass(frozen=True)
class Preset:
    text: TextShape
    vision: VisionShape
    max_pixels: int  # image budget saved in the processor
    description: str


PRESETS: dict[str, Preset] = {
    "tiny": Preset(
        TextShape(64, 128, 2, 4, 2, (2, 3, 3), 10_000.0, None, False),
        VisionShape(2, 32, 64, 2, (1,)),
        max_pixels=112 * 112,
        description="2-layer 64-wide text model, 2-layer vision tower: tests and smoke runs",
    ),
    "0.5b": Preset(
        TextShape(896, 4864, 24, 14, 2, (8, 12, 12), 1_000_000.0, 151_936, True),
        VisionShape(4, 256, 512, 4, (3,)),
        max_pixels=448 * 448,
        description="Qwen2-0.5B-shaped language model with a small vision tower: CPU speed work",
    ),
    "7b": Preset(
        TextShape(3584, 18944, 28, 28, 4, (16, 24, 24), 1_000_000.0, 152_064, False),
        VisionShape(32, 1280, 3420, 16, (7, 15, 23, 31)),
        max_pixels=2_250_000,
        description="Qwen2.5-VL-7B shape (the ECHO backbone): GPU speed work",
    ),
}


def parse_random_spec(spec: str) -> str:
    """'random:tiny' -> 'tiny'; unknown presets are an error listing the known ones."""
    name = spec[len(RANDOM_PREFIX):]
    if name not in PRESETS:
        raise EchoError(f"unknown random preset {name!r}; choose one of {', '.join(PRESETS)}")
    return name


def preset_config(name: str, tokenizer):
    """A ``Qwen2_5_VLConfig`` for preset ``name`` whose special ids come from ``tokenizer``."""
    return qwen_config(PRESETS[name].text, PRESETS[name].vision, tokenizer)


def qwen_config(text: TextShape, vision: VisionShape, tokenizer):
    """A ``Qwen2_5_VLConfig`` of any size (tiny models for tests and training from scratch)."""
    from transformers import Qwen2_5_VLConfig

    vocab = text.vocab_size or len(tokenizer)
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in ("<|image_pad|>", "<|video_pad|>")}
    eos, pad = tokenizer.eos_token_id, tokenizer.pad_token_id
    text_cfg = {k: v for k, v in asdict(text).items() if k not in ("mrope_section", "rope_theta")}
    text_cfg.update(
        vocab_size=vocab,
        rope_parameters={"rope_type": "default", "mrope_section": list(text.mrope_section), "rope_theta": text.rope_theta},
        bos_token_id=None,
        eos_token_id=eos,
        pad_token_id=pad,
    )
    vision_cfg = asdict(vision) | {"out_hidden_size": text.hidden_size}
    vision_cfg["fullatt_block_indexes"] = list(vision.fullatt_block_indexes)
    return Qwen2_5_VLConfig(
        text_config=text_cfg,
        vision_config=vision_cfg,
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=tokenizer.convert_tokens_to_ids("<|vision_start|>"),
        vision_end_token_id=tokenizer.convert_tokens_to_ids("<|vision_end|>"),
        tie_word_embeddings=text.tie_word_embeddings,
        mask_token_id=tokenizer.mask_token_id,
    )


def count_parameters(config) -> int:
    """Parameter count of the model ``config`` describes, without allocating weights."""
    import torch
    from transformers import Qwen2_5_VLForConditionalGeneration

    with torch.device("meta"):
        model = Qwen2_5_VLForConditionalGeneration(config)
    return sum(p.numel() for p in model.parameters())


def available_memory(device) -> int:
    """Bytes free for a new model on ``device`` (MemAvailable on CPU, free memory on CUDA)."""
    import torch

    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free)
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    raise EchoError("cannot read available memory from /proc/meminfo")


def check_fits(config, dtype, device) -> None:
    """Refuse (EchoError) a model that would not fit in memory, rather than letting it swap."""
    import torch

    needed = count_parameters(config) * torch.finfo(dtype).bits // 8
    needed = int(needed * (1 + MEMORY_HEADROOM))
    free = available_memory(device)
    if needed > free:
        raise EchoError(
            f"this model needs about {needed / 2**30:.1f} GiB in {str(dtype).removeprefix('torch.')} on "
            f"{device.type} but only {free / 2**30:.1f} GiB is free; use a smaller preset, --dtype bfloat16, "
            "or another device"
        )
