"""Special token names and the ids resolved once at load time (METHOD.md section 2).

No token id is ever written as a literal elsewhere: the decoder, trainers and apps read them from
``SpecialIds``.
"""

from __future__ import annotations

from dataclasses import dataclass

from echo_cxr.errors import EchoError

MASK_TOKEN = "<|MASK|>"
PAD_TOKEN = "<|endoftext|>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
VISION_START = "<|vision_start|>"
VISION_END = "<|vision_end|>"
IMAGE_PAD = "<|image_pad|>"
VIDEO_PAD = "<|video_pad|>"
# Order matters: the tiny tokenizer gives them the first ids in this order.
QWEN_SPECIAL_TOKENS = (PAD_TOKEN, IM_START, IM_END, VISION_START, VISION_END, IMAGE_PAD, VIDEO_PAD, MASK_TOKEN)


@dataclass(frozen=True)
class SpecialIds:
    """Token ids the decoder needs: mask, every EOS id, padding, image placeholder."""

    mask: int
    eos: tuple[int, ...]
    pad: int
    image: int

    def __post_init__(self) -> None:
        if not self.eos:
            raise EchoError("the model defines no end-of-sequence token id")


def _as_tuple(value) -> tuple[int, ...]:
    if value is None:
        return ()
    if isinstance(value, int):
        return (value,)
    return tuple(int(v) for v in value)


def _token_id(tokenizer, token: str) -> int | None:
    """Id of ``token`` if the tokenizer knows it as a whole token, else None."""
    vocab = tokenizer.get_vocab()
    return vocab.get(token)


def resolve_mask_id(config, tokenizer) -> int:
    """Mask id: ``config.mask_token_id``, then the tokenizer's mask token, then ``<|MASK|>``."""
    for candidate in (getattr(config, "mask_token_id", None), getattr(tokenizer, "mask_token_id", None)):
        if candidate is not None:
            return int(candidate)
    found = _token_id(tokenizer, MASK_TOKEN)
    if found is None:
        raise EchoError(
            f"no mask token: config has no mask_token_id, the tokenizer has no mask token and no {MASK_TOKEN!r}"
        )
    return found


def resolve_special_ids(config, tokenizer, generation_config=None) -> SpecialIds:
    """Resolve all special ids once; EOS = every id of the generation config (else config, tokenizer)."""
    eos: tuple[int, ...] = ()
    for source in (generation_config, getattr(config, "text_config", None), config):
        eos = _as_tuple(getattr(source, "eos_token_id", None)) if source is not None else ()
        if eos:
            break
    if not eos:
        eos = _as_tuple(tokenizer.eos_token_id)
    pad = tokenizer.pad_token_id
    if pad is None:
        pad = _token_id(tokenizer, PAD_TOKEN)
    if pad is None:
        pad = eos[0]
    image = getattr(config, "image_token_id", None)
    if image is None:
        image = _token_id(tokenizer, IMAGE_PAD)
    if image is None:
        raise EchoError("the model config has no image_token_id and the tokenizer has no <|image_pad|>")
    return SpecialIds(mask=resolve_mask_id(config, tokenizer), eos=eos, pad=int(pad), image=int(image))
