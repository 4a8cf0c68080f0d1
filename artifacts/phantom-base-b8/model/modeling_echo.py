"""ECHO block-diffusion model for ``AutoModelForCausalLM.from_pretrained(..., trust_remote_code=True)``.

Written by echo-cxr into the checkpoints it saves. It honours the calling convention of the ECHO
release's inference scripts (METHOD.md section 2) on stock transformers 4.55 / 4.57 (the release's
pins) and 5.x, with no flash-attn and no forked modeling file:

    model(input_ids, pixel_values, image_grid_thw, attention_mask=<4D float 0/1 [1,1,q,k]>,
          past_key_values=DynamicCache(), use_cache=True, store_kv=True)           # prefill
    model(input_ids=block, attention_mask=..., cache_position=arange(s, e),
          past_key_values=cache, use_cache=True, store_kv=False)                  # denoise
    model(input_ids=cat(prev_block, block), ..., store_kv=True, store_kv_len=L)   # fused step

Predictions are not shifted: logits at position i are for the token at position i.

Where the stock APIs differ between the major versions this file branches once, on the installed
version: the cache keyword of ``forward`` (4.x ``past_key_values``, 5.x ``cache``), the signature of
``get_rope_index`` (5.x takes multimodal token types) and the weight renaming of 5.x (the saved
weights carry the 4.x names, which 4.x's own ``_checkpoint_conversion_mapping`` maps on load).
"""

import torch
import transformers
from transformers import DynamicCache, Qwen2_5_VLForConditionalGeneration

LEGACY = int(transformers.__version__.split(".")[0]) < 5  # transformers 4.x
CACHE_KEYWORD = "past_key_values" if LEGACY else "cache"
IMAGE_TOKEN_TYPE = 1  # 5.x get_rope_index: multimodal token type of an image placeholder

if not LEGACY:  # 5.x renames the 4.x weight names on load, but only for classes it knows
    from transformers.conversion_mapping import (
        get_checkpoint_conversion_mapping,
        register_checkpoint_conversion_mapping,
    )

    _QWEN_MAPPING = get_checkpoint_conversion_mapping("Qwen2_5_VLForConditionalGeneration")
    if _QWEN_MAPPING:
        register_checkpoint_conversion_mapping("EchoForConditionalGeneration", _QWEN_MAPPING, overwrite=True)


def release_mask_to_bool(mask: torch.Tensor) -> torch.Tensor:
    """A 4D mask -> bool (True = attend): a float mask of only 0/1 means 1 = attend (the release's
    masks); any other float mask is taken as additive (0 = attend)."""
    if mask.dtype == torch.bool:
        return mask
    is_binary = bool(((mask == 0) | (mask == 1)).all()) and bool((mask == 1).any())
    return mask.bool() if is_binary else mask == 0


def release_mask(mask: torch.Tensor, implementation: str, dtype: torch.dtype) -> torch.Tensor:
    """A 4D release mask -> what stock attention takes: bool for SDPA, additive 0/min for eager
    (both versions add a float mask to the scores unchanged, and eager adds even a bool one)."""
    allowed = release_mask_to_bool(mask)
    if implementation != "eager":
        return allowed
    return torch.zeros(allowed.shape, dtype=dtype, device=allowed.device).masked_fill(~allowed, torch.finfo(dtype).min)


class EchoForConditionalGeneration(Qwen2_5_VLForConditionalGeneration):
    """Stock Qwen2.5-VL plus the release's ``store_kv`` / ``store_kv_len`` cache semantics."""

    def _echo_rope_index(self, input_ids, image_grid_thw):
        """(3, B, P) prompt positions and (B, 1) deltas from the stock ``get_rope_index``."""
        if LEGACY:
            return self.model.get_rope_index(input_ids, image_grid_thw=image_grid_thw)
        token_types = (input_ids == self.config.image_token_id).int() * IMAGE_TOKEN_TYPE
        return self.model.get_rope_index(input_ids, token_types, image_grid_thw=image_grid_thw)

    def _echo_positions(self, input_ids, image_grid_thw, past, cache_position):
        """(3, B, q) M-RoPE positions: stock rope index at prefill, then p + delta (METHOD.md section 2)."""
        batch, width = input_ids.shape
        device = input_ids.device
        if past == 0:
            if image_grid_thw is not None and bool((input_ids == self.config.image_token_id).any()):
                positions, delta = self._echo_rope_index(input_ids, image_grid_thw)
            else:
                positions = torch.arange(width, device=device)[None, None].expand(3, batch, -1)
                delta = torch.zeros(batch, 1, dtype=torch.long, device=device)
            self._echo_rope_delta = delta
            return positions
        if cache_position is not None and cache_position.numel() == width:
            start = cache_position.to(device)
        else:
            start = torch.arange(past, past + width, device=device)
        delta = getattr(self, "_echo_rope_delta", torch.zeros(batch, 1, dtype=torch.long, device=device))
        return (start[None] + delta.to(device))[None].expand(3, batch, -1)

    def _echo_attention(self):
        text = self.config.get_text_config()
        return getattr(text, "_attn_implementation", None) or self.config._attn_implementation

    def forward(self, input_ids=None, attention_mask=None, position_ids=None, past_key_values=None,
                inputs_embeds=None, use_cache=None, pixel_values=None, image_grid_thw=None,
                cache_position=None, store_kv=True, store_kv_len=None, cache=None, **kwargs):
        cache = cache if cache is not None else past_key_values
        if use_cache and cache is None:
            cache = DynamicCache() if LEGACY else DynamicCache(config=self.config)
        past = cache.get_seq_length() if cache is not None else 0
        if position_ids is None and input_ids is not None:
            position_ids = self._echo_positions(input_ids, image_grid_thw, past, cache_position)
        if isinstance(attention_mask, torch.Tensor) and attention_mask.dim() == 4:
            allowed = release_mask(attention_mask, self._echo_attention(), self.dtype)
            attention_mask = {"full_attention": allowed, "sliding_attention": allowed}
        out = super().forward(
            input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
            inputs_embeds=inputs_embeds, use_cache=use_cache, pixel_values=pixel_values,
            image_grid_thw=image_grid_thw, **{CACHE_KEYWORD: cache}, **kwargs,
        )
        if cache is not None:
            width = (input_ids if input_ids is not None else inputs_embeds).shape[1]
            kept = 0 if not store_kv else (width if store_kv_len is None else min(store_kv_len, width))
            if width > kept:
                cache.crop(-(width - kept))
        return out
