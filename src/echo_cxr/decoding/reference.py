"""The slow reference decoder: the oracle every fast path is tested against (METHOD.md section 3).

One request at a time, no KV cache, no padding, no fusion: every denoising step re-runs the stock
Qwen2.5-VL forward (vision tower included) over the whole canvas prefix [prompt | blocks so far]
with the block-causal mask. It shares only the pure pieces (mask function, sampling, strategies)
with the fast decoder.
"""

from __future__ import annotations

import math

import torch

from echo_cxr.decoding.events import BlockEvent, Callbacks
from echo_cxr.decoding.results import BlockTrace
from echo_cxr.decoding.rowstate import RowOutputs
from echo_cxr.decoding.sampling import entropy, filtered_probs, make_generators, sample_tokens
from echo_cxr.decoding.strategies import STRATEGIES, StepScores, choose_commits
from echo_cxr.decoding.timing import now
from echo_cxr.model.inputs import prompt_positions, response_positions
from echo_cxr.model.masks import block_causal_mask


def _full_forward(model, prompt, canvas, positions, L):
    """Stock forward over the whole canvas (B=1); returns logits (n, V)."""
    device = model.device
    n = canvas.shape[0]
    mask = block_causal_mask(torch.arange(n, device=device), torch.ones(1, n, dtype=torch.bool, device=device), L)
    extra = {}
    if prompt.pixel_values is not None:
        extra = {"pixel_values": prompt.pixel_values.to(device), "image_grid_thw": prompt.image_grid_thw.to(device)}
    out = model(
        input_ids=canvas[None].to(device),
        attention_mask={"full_attention": mask, "sliding_attention": mask},
        position_ids=positions[:, None].to(device),
        use_cache=False,
        **extra,
    )
    return out.logits[0]


def _decode_one(bundle, prompt, config, seed, request, callbacks) -> RowOutputs:
    model, special = bundle.model, bundle.special
    device, L = model.device, config.block_length
    out = RowOutputs()
    out.stats.prompt_tail = prompt.length % L
    started = now(device)
    generator = make_generators([seed], device, config.temperature)
    prompt_pos, delta = prompt_positions(model, prompt)
    P = prompt.length
    first = (P // L) * L
    blocks = math.ceil((P + config.max_new_tokens) / L) - first // L
    canvas = prompt.input_ids.clone()
    positions = prompt_pos.clone()
    needs_entropy = STRATEGIES[config.strategy].needs_entropy
    for block in range(blocks):
        start, end = first + block * L, first + (block + 1) * L
        new = end - canvas.shape[0]
        canvas = torch.cat([canvas, torch.full((new,), special.mask, dtype=torch.long)])
        positions = torch.cat([positions, response_positions(end - new, new, delta)], dim=1)
        masked = (torch.arange(start, end) >= P)[None].to(device)
        generated = masked[0].cpu().clone()
        commit_step = torch.full((L,), -1, dtype=torch.long)
        top_ids = torch.zeros(L, config.record_top_k, dtype=torch.long)
        top_probs = torch.zeros(L, config.record_top_k)
        step = 0
        while bool(masked.any()):
            logits = _full_forward(model, prompt, canvas, positions, L)[start:end][None]
            probs = filtered_probs(logits, config.temperature, config.top_k, config.top_p)
            tokens, confidence = sample_tokens(probs, config.temperature, generator, masked.any(-1))
            scores = StepScores(confidence.masked_fill(~masked, float("-inf")), masked,
                                entropy(probs) if needs_entropy else None)
            commit = choose_commits(scores, config.step_quota(step), config)
            canvas[start:end] = torch.where(commit[0].cpu(), tokens[0].cpu(), canvas[start:end])
            masked = masked & ~commit
            out.stats.forward_passes += 1
            if config.record_trajectory:
                top = torch.topk(torch.softmax(logits[0].float(), -1), min(config.record_top_k, logits.shape[-1]), -1)
                chosen = commit[0].cpu()
                commit_step[chosen] = step
                top_ids[chosen, : top.indices.shape[-1]] = top.indices.cpu()[chosen]
                top_probs[chosen, : top.values.shape[-1]] = top.values.cpu()[chosen]
            step += 1
        block_ids = canvas[start:end].clone()
        new_ids = block_ids[generated].tolist()
        out.raw_ids.extend(new_ids)
        out.stats.committed_tokens += len(new_ids)
        if config.record_trajectory:
            out.trace.append(BlockTrace(block, block_ids, generated, commit_step, top_ids, top_probs))
        final = block == blocks - 1 or (not config.ignore_eos and any(t in special.eos for t in new_ids))
        if callbacks.on_block:
            callbacks.on_block(BlockEvent(request, block, new_ids, final))
        if final:
            break
    out.stats.decode_seconds = now(device) - started
    return out


def decode_reference(bundle, prompts, config, seeds, callbacks: Callbacks | None = None,
                     timer=None) -> list[RowOutputs]:
    """Decode each prompt alone with full recomputation (slow; for tests and audits; not profiled)."""
    callbacks = callbacks or Callbacks()
    return [_decode_one(bundle, p, config, s, i, callbacks) for i, (p, s) in enumerate(zip(prompts, seeds))]
