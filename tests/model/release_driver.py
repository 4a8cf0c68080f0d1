"""A decoding loop written the way the ECHO release's inference scripts drive the model.

Batch 1, float 0/1 block masks [1, 1, q, k], a DynamicCache, ``cache_position``, ``store_kv`` and
``store_kv_len`` (METHOD.md section 2). Used to check that echo-cxr checkpoints loaded through
``trust_remote_code`` honour that convention and give the same tokens as echo-cxr's decoder.
"""

from __future__ import annotations

import math

import torch
from transformers import DynamicCache


def block_mask(length: int, block: int) -> torch.Tensor:
    index = torch.arange(length) // block
    return (index[None, :] <= index[:, None]).float()


@torch.no_grad()
def release_decode(model, inputs, mask_id, eos_ids, block, steps, max_new, threshold, fused):
    ids = inputs["input_ids"]
    prompt = ids.shape[1]
    total = math.ceil((prompt + max_new) / block) * block
    x = torch.full((1, total), mask_id, dtype=torch.long)
    x[:, :prompt] = ids
    full_mask = block_mask(total, block)
    cache = DynamicCache()
    model(input_ids=ids, pixel_values=inputs["pixel_values"], image_grid_thw=inputs["image_grid_thw"],
          attention_mask=full_mask[:prompt, :prompt][None, None], past_key_values=cache, use_cache=True,
          store_kv=True)
    start = (prompt // block) * block
    if prompt > start:
        cache.crop(start - prompt)
    previous = None
    for b_start in range(start, total, block):
        b_end = b_start + block
        step = 0
        while bool((x[0, b_start:b_end] == mask_id).any()):
            masked = x[0, b_start:b_end] == mask_id
            if fused and previous is not None and step == 0:
                out = model(input_ids=x[:, previous:b_end], attention_mask=full_mask[previous:b_end, :b_end][None, None],
                            cache_position=torch.arange(previous, b_end), past_key_values=cache, use_cache=True,
                            store_kv=True, store_kv_len=block)
                logits = out.logits[0, block:]
            else:
                out = model(input_ids=x[:, b_start:b_end], attention_mask=full_mask[b_start:b_end, :b_end][None, None],
                            cache_position=torch.arange(b_start, b_end), past_key_values=cache, use_cache=True,
                            store_kv=False)
                logits = out.logits[0]
            confidence, tokens = torch.softmax(logits.float(), -1).max(-1)
            confidence = confidence.masked_fill(~masked, -float("inf"))
            quota = block // steps + (1 if step < block % steps else 0)
            if steps == 1:
                commit = masked
            else:
                above = masked & (confidence > threshold)
                if int(above.sum()) >= quota:
                    commit = above
                else:
                    k = min(quota, int(masked.sum()))
                    commit = torch.zeros_like(masked)
                    commit[torch.topk(confidence, k).indices] = True
            x[0, b_start:b_end] = torch.where(commit, tokens, x[0, b_start:b_end])
            step += 1
        generated = x[0, max(b_start, prompt):b_end].tolist()
        if any(t in eos_ids for t in generated):
            break
        if fused:
            previous = b_start
        else:
            model(input_ids=x[:, b_start:b_end], attention_mask=full_mask[b_start:b_end, :b_end][None, None],
                  cache_position=torch.arange(b_start, b_end), past_key_values=cache, use_cache=True, store_kv=True)
    return x[0, prompt:b_end].tolist()
