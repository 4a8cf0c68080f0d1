"""ECHO block-diffusion model for ``AutoModelForCausalLM.from_pretrained(..., trust_remote_code=True)``.

Written by echo-cxr into the checkpoints it saves. It honours the calling convention of the ECHO
release's inference scripts on stock transformers 5.x (no flash-attn, no forked modeling file):

    model(input_ids, pixel_values, image_grid_thw, attention_mask=<4D float 0/1 [1,1,q,k]>,
          past_key_values=DynamicCache(), use_cache=True, store_kv=True)           # prefill
    model(input_ids=block, attention_mask=..., cache_position=arange(s, e),
          past_key_values=cache, use_cache=True, store_kv=False)                  # denoise
    model(input_ids=cat(prev_block, block), ..., store_kv=True, store_kv_len=L)   # fused step

Predictions are not shifted: logits at position i are for the token at position i.
"""

import torch
from transformers import DynamicCache, Qwen2_5_VLForConditionalGeneration

try:  # transformers 5.x renames the 4.x weight names on load, but skips remote classes it does not know
    from transformers.conversion_mapping import (
        get_checkpoint_conversion_mapping,
        register_checkpoint_conversion_mapping,
    )

    _QWEN_MAPPING = get_checkpoint_conversion_mapping("Qwen2_5_VLForConditionalGeneration")
    if _QWEN_MAPPING:
        register_checkpoint_conversion_mapping("EchoForConditionalGeneration", _QWEN_MAPPING, overwrite=True)
except ImportError:  # older transformers: the saved names are its native names
    pass


def release_mask_to_bool(mask: torch.Tensor) -> torch.Tensor:
    """A 4D float mask -> bool (True = attend): 0/1 masks as such, anything else as additive 0/-inf."""
    if mask.dtype == torch.bool:
        return mask
    is_binary = bool(((mask == 0) | (mask == 1)).all()) and bool((mask == 1).any())
    return mask.bool() if is_binary else mask == 0


class EchoForConditionalGeneration(Qwen2_5_VLForConditionalGeneration):
    """Stock Qwen2.5-VL plus the release's ``store_kv`` / ``store_kv_len`` cache semantics."""

    def _echo_positions(self, input_ids, image_grid_thw, past, cache_position):
        """(3, B, q) M-RoPE positions: stock rope index at prefill, then p + delta."""
        batch, width = input_ids.shape
        if past == 0:
            token_types = (input_ids == self.config.image_token_id).int()
            if image_grid_thw is not None and bool(token_types.any()):
                positions, delta = self.model.get_rope_index(input_ids, token_types, image_grid_thw=image_grid_thw)
            else:
                positions = torch.arange(width, device=input_ids.device)[None, None].expand(3, batch, -1)
                delta = torch.zeros(batch, 1, dtype=torch.long, device=input_ids.device)
            self._echo_rope_delta = delta
            return positions
        if cache_position is not None and cache_position.numel() == width:
            start = cache_position.to(input_ids.device)
        else:
            start = torch.arange(past, past + width, device=input_ids.device)
        delta = getattr(self, "_echo_rope_delta", torch.zeros(batch, 1, dtype=torch.long, device=input_ids.device))
        return (start[None] + delta.to(input_ids.device))[None].expand(3, batch, -1)

    def forward(self, input_ids=None, attention_mask=None, position_ids=None, past_key_values=None,
                inputs_embeds=None, use_cache=None, pixel_values=None, image_grid_thw=None,
                cache_position=None, store_kv=True, store_kv_len=None, cache=None, **kwargs):
        cache = cache if cache is not None else past_key_values
        if use_cache and cache is None:
            cache = DynamicCache(config=self.config)
        past = cache.get_seq_length() if cache is not None else 0
        if position_ids is None and input_ids is not None:
            position_ids = self._echo_positions(input_ids, image_grid_thw, past, cache_position)
        if isinstance(attention_mask, torch.Tensor) and attention_mask.dim() == 4:
            allowed = release_mask_to_bool(attention_mask)
            attention_mask = {"full_attention": allowed, "sliding_attention": allowed}
        out = super().forward(
            input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, cache=cache,
            inputs_embeds=inputs_embeds, use_cache=use_cache, pixel_values=pixel_values,
            image_grid_thw=image_grid_thw, **kwargs,
        )
        if cache is not None:
            width = (input_ids if input_ids is not None else inputs_embeds).shape[1]
            kept = 0 if not store_kv else (width if store_kv_len is None else min(store_kv_len, width))
            if width > kept:
                cache.crop(-(width - kept))
        return out
