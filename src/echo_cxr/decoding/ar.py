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
from echo_cxr.model.inputs import lm_forward, prepare_prompts, token_embedder
from echo_cxr.model.masks import append_mask, causal_mask

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
    budget = config.max_new_tokens
    # (B, budget) RoPE position of generated token i; one validity buffer read as a prefix of the cache
    token_pos = torch.tensor([p.length + d for p, d in zip(prompts, deltas)], device=device)[:, None] + \
        torch.arange(budget, device=device)
    valid = torch.ones(len(prompts), width + budget, dtype=torch.bool, device=device)
    valid[:, :width] = key_valid
    embed = token_embedder(model)
    mask_embed = embed(torch.tensor([special.mask], device=device))
    eos = set(special.eos)
    last = None  # (B,) newest token, not yet in the cache
    for t in range(budget):
        key_valid = valid[:, : cache.get_seq_length()]
        if not shifted:
            logits = _masked_step(model, cache, key_valid, embed, mask_embed, last, token_pos, t, timer)
        elif t > 0:
            step_mask, step_embeds = append_mask(key_valid, 1, 1), embed(last[:, None])
            with timer("forward"):
                logits = lm_forward(model, step_embeds, token_pos[None, :, t - 1 : t].expand(3, -1, -1), step_mask, cache)
        with timer("sampling"):
            if config.temperature == 0:  # greedy: only the argmax is needed (no softmax over the vocabulary)
                tokens = logits[:, -1:].argmax(dim=-1)
            else:
                probs = filtered_probs(logits[:, -1:], config.temperature, config.top_k, config.top_p)
                tokens, _ = sample_tokens(probs, config.temperature, generators,
                                          torch.ones(len(requests), dtype=torch.bool))
        last = tokens[:, 0]
        token_list = last.tolist()
        finished = [t + 1 == budget or (token in eos and not config.ignore_eos) for token in token_list]
        elapsed = now(device) - decode_start if any(finished) else None
        for row, (request, token, done) in enumerate(zip(requests, token_list, finished)):
            out = outputs[request]
            out.raw_ids.append(token)
            out.stats.committed_tokens += 1
            out.stats.forward_passes += 1
            if callbacks.on_block:
                callbacks.on_block(BlockEvent(request, t, [token], done))
            if done:
                out.stats.decode_seconds = elapsed
        if elapsed is not None:
            keep = [row for row, done in enumerate(finished) if not done]
            requests, generators = [requests[i] for i in keep], [generators[i] for i in keep]
            if not requests:
                break
            index = torch.tensor(keep, device=device)
            last, token_pos, valid = last[index], token_pos[index], valid[index]
            cache.batch_select_indices(index)
    return outputs


def _masked_step(model, cache, key_valid, embed, mask_embed, last, token_pos, t, timer):
    """Forward [newest token | mask] (or [mask] first); append only the newest token's K/V."""
    batch = key_valid.shape[0]
    mask_inputs = mask_embed[None].expand(batch, 1, -1)
    if last is None:
        inputs, commit = mask_inputs, 0
    else:
        inputs, commit = torch.cat([embed(last[:, None]), mask_inputs], dim=1), 1
    width = inputs.shape[1]
    positions = token_pos[None, :, t + 1 - width : t + 1].expand(3, -1, -1)
    mask = append_mask(key_valid, width, 1)
    cache.commit = commit
    with timer("forward"):
        logits = lm_forward(model, inputs, positions, mask, cache, logits_from=width - 1)
    cache.commit = None
    return logits
