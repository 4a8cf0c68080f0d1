"""Autoregressive decoding on the same model: causal attention, one token per forward, KV cache.

Two prediction conventions, read from the model bundle:
- ``next_token`` (an AR-trained model such as ECHO-AR): logits at position i predict token i+1;
  the prefill's last logits give the first token, then each forward feeds the newest token.
- ``masked`` (a block-diffusion model, unshifted): the token at position p is predicted by a mask
  token at p; each forward feeds [newest token | mask], appending only the newest token's K/V.
  This is exactly block diffusion with L = 1, S = 1 (fused), computed by separate code.
The speed baseline of the paper is the ``next_token`` form (TPF 1.0).
"""

from __future__ import annotations

import torch

from echo_cxr.decoding.events import BlockEvent, Callbacks
from echo_cxr.decoding.profile import NULL_TIMER
from echo_cxr.decoding.rowstate import RowOutputs
from echo_cxr.decoding.sampling import filtered_probs, make_generators, sample_tokens
from echo_cxr.decoding.timing import now
from echo_cxr.model.cache import BlockKVCache
from echo_cxr.model.inputs import lm_forward, prepare_prompts
from echo_cxr.model.masks import causal_mask

NEXT_TOKEN = "next_token"
MASKED = "masked"
PREDICTIONS = (NEXT_TOKEN, MASKED)


def _prefill(model, embeds, positions, device):
    lengths = [e.shape[0] for e in embeds]
    width, batch = max(lengths), len(embeds)
    inputs = torch.zeros(batch, width, embeds[0].shape[-1], dtype=embeds[0].dtype, device=device)
    pos = torch.zeros(3, batch, width, dtype=torch.long, device=device)
    key_valid = torch.zeros(batch, width, dtype=torch.bool, device=device)
    for row, (emb, p) in enumerate(zip(embeds, positions)):
        pad = width - emb.shape[0]
        inputs[row, pad:], pos[:, row, pad:], key_valid[row, pad:] = emb, p.to(device), True
    cache = BlockKVCache(model.config.text_config.num_hidden_layers)
    return inputs, pos, key_valid, cache


def decode_ar(bundle, prompts, config, seeds, callbacks: Callbacks | None = None,
              timer=NULL_TIMER) -> list[RowOutputs]:
    """Greedy or sampled AR decoding of a batch (left-padded prompts, rows leave at their EOS)."""
    model, special = bundle.model, bundle.special
    shifted = bundle.prediction == NEXT_TOKEN
    device = model.device
    callbacks = callbacks or Callbacks()
    outputs = [RowOutputs() for _ in prompts]
    started = now(device)
    with timer("prefill"):
        embeds, positions, deltas = prepare_prompts(model, prompts)
        inputs, pos, key_valid, cache = _prefill(model, embeds, positions, device)
        width = inputs.shape[1]
        mask = causal_mask(torch.arange(width, device=device), key_valid)
        logits = lm_forward(model, inputs, pos, mask, cache, logits_from=width - 1 if shifted else None)
    decode_start = now(device)
    for out in outputs:
        out.stats.prefill_seconds = decode_start - started
    requests = list(range(len(prompts)))
    generators = make_generators(seeds, device, config.temperature)
    next_pos = torch.tensor([p.length + d for p, d in zip(prompts, deltas)], device=device)  # RoPE pos of token 0
    embed = model.get_input_embeddings()
    mask_embed = embed(torch.tensor([special.mask], device=device))
    eos = torch.tensor(special.eos, device=device)
    last = None  # (B,) newest token, not yet in the cache
    for t in range(config.max_new_tokens):
        with timer("forward"):
            if not shifted:
                logits = _masked_step(model, cache, key_valid, embed, mask_embed, last, next_pos)
                if last is not None:
                    key_valid = torch.cat([key_valid, torch.ones_like(key_valid[:, :1])], 1)
            elif t > 0:
                past = cache.get_seq_length()
                key_valid = torch.cat([key_valid, torch.ones_like(key_valid[:, :1])], 1)
                step_mask = causal_mask(torch.arange(past, past + 1, device=device), key_valid)
                step_pos = (next_pos - 1)[None, :, None].expand(3, -1, 1)
                logits = lm_forward(model, embed(last[:, None]), step_pos, step_mask, cache)
        with timer("sampling"):
            probs = filtered_probs(logits[:, -1:], config.temperature, config.top_k, config.top_p)
            tokens, _ = sample_tokens(probs, config.temperature, generators,
                                      torch.ones(len(requests), dtype=torch.bool))
        last = tokens[:, 0]
        next_pos = next_pos + 1
        finished = (torch.isin(last, eos) & (not config.ignore_eos)) | (t + 1 == config.max_new_tokens)
        elapsed = now(device) - decode_start
        for row, (request, token, done) in enumerate(zip(requests, last.tolist(), finished.tolist())):
            out = outputs[request]
            out.raw_ids.append(token)
            out.stats.committed_tokens += 1
            out.stats.forward_passes += 1
            if callbacks.on_block:
                callbacks.on_block(BlockEvent(request, t, [token], done))
            if done:
                out.stats.decode_seconds = elapsed
        if bool(finished.any()):
            keep = torch.nonzero(~finished).flatten()
            requests = [requests[i] for i in keep.tolist()]
            generators = [generators[i] for i in keep.tolist()]
            last, next_pos, key_valid = last[keep], next_pos[keep], key_valid[keep]
            cache.batch_select_indices(keep)
        if not requests:
            break
    return outputs


def _masked_step(model, cache, key_valid, embed, mask_embed, last, next_pos):
    """Forward [newest token | mask] (or [mask] first); append only the newest token's K/V."""
    device = key_valid.device
    batch = key_valid.shape[0]
    mask_inputs = mask_embed[None].expand(batch, 1, -1)
    if last is None:
        inputs, positions, cache.commit = mask_inputs, next_pos[None, :, None].expand(3, -1, 1), 0
    else:
        inputs = torch.cat([embed(last[:, None]), mask_inputs], dim=1)
        positions = torch.stack([next_pos - 1, next_pos], dim=-1)[None].expand(3, -1, -1)
        cache.commit = 1
    past = cache.get_seq_length()
    width = inputs.shape[1]
    valid = torch.cat([key_valid, torch.ones(batch, width, dtype=torch.bool, device=device)], 1)
    mask = causal_mask(torch.arange(past, past + width, device=device), valid)
    logits = lm_forward(model, inputs, positions, mask, cache, logits_from=width - 1)
    cache.commit = None
    return logits
