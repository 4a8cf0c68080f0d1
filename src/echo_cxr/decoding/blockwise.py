"""The block-diffusion decoder: cached, batched, fused or unfused (METHOD.md section 3).

Rows of a batch are aligned on block boundaries: row r is left-padded by C - floor(P_r / L) * L
slots (a multiple of L, so its blocks stay blocks), where C is the largest block-aligned prompt
prefix. Only that prefix is prefilled; each row's prompt tail (P_r mod L tokens) is run inside its
first decoding block, as the release does after cropping its cache. Rows then move block by block
in lockstep; a row leaves the batch after its EOS block or its last block. Every row gets exactly
the computation it would get alone (padding keys are masked out).

The slow oracle is ``reference.py``; tests compare the two.
"""

from __future__ import annotations

import math

import torch

from echo_cxr.decoding.events import BlockEvent, Callbacks, StepEvent
from echo_cxr.decoding.profile import NULL_TIMER
from echo_cxr.decoding.results import BlockTrace
from echo_cxr.decoding.rowstate import RowOutputs
from echo_cxr.decoding.sampling import entropy, filtered_probs, make_generators, sample_tokens
from echo_cxr.decoding.strategies import STRATEGIES, StepScores, choose_commits
from echo_cxr.decoding.timing import now
from echo_cxr.model.cache import BlockKVCache
from echo_cxr.model.inputs import lm_forward, prepare_prompts, response_positions
from echo_cxr.model.masks import block_causal_mask


class _Rows:
    """Per-row tensors of the rows still decoding; ``keep`` drops finished rows everywhere."""

    def __init__(self, **tensors):
        self.__dict__.update(tensors)

    def keep(self, index: torch.Tensor, cache: BlockKVCache) -> None:
        for name, value in list(self.__dict__.items()):
            if isinstance(value, torch.Tensor):
                dim = 1 if name.endswith("positions") else 0  # positions are (3, B, L)
                setattr(self, name, value.index_select(dim, index.to(value.device)))
            elif isinstance(value, list):
                setattr(self, name, [value[i] for i in index.tolist()])
        cache.batch_select_indices(index)


def _prefill(model, embeds, positions, lengths, L, device):
    """Prefill the block-aligned prompt prefixes; returns (cache, key_valid (B, C), C)."""
    aligned = [(n // L) * L for n in lengths]
    width = max(aligned)
    batch = len(embeds)
    key_valid = torch.zeros(batch, width, dtype=torch.bool, device=device)
    cache = BlockKVCache(model.config.text_config.num_hidden_layers)
    if width == 0:
        return cache, key_valid, width
    hidden = embeds[0].shape[-1]
    inputs = torch.zeros(batch, width, hidden, dtype=embeds[0].dtype, device=device)
    pos = torch.zeros(3, batch, width, dtype=torch.long, device=device)
    for row, (emb, p, n) in enumerate(zip(embeds, positions, aligned)):
        pad = width - n
        inputs[row, pad:] = emb[:n]
        pos[:, row, pad:] = p[:, :n].to(device)
        key_valid[row, pad:] = True
    mask = block_causal_mask(torch.arange(width, device=device), key_valid, L)
    lm_forward(model, inputs, pos, mask, cache, logits_from=None)
    return cache, key_valid, width


def _first_block(prompts, embeds, positions, deltas, L, mask_id, device):
    """Block 0 of every row: prompt tail (fixed) then masks. Returns ids, fixed, fixed embeds, positions."""
    batch, hidden = len(prompts), embeds[0].shape[-1]
    ids = torch.full((batch, L), mask_id, dtype=torch.long, device=device)
    fixed = torch.zeros(batch, L, dtype=torch.bool, device=device)
    fixed_embeds = torch.zeros(batch, L, hidden, dtype=embeds[0].dtype, device=device)
    pos = torch.zeros(3, batch, L, dtype=torch.long, device=device)
    for row, prompt in enumerate(prompts):
        start = (prompt.length // L) * L
        tail = prompt.length - start
        ids[row, :tail] = prompt.input_ids[start:].to(device)
        fixed[row, :tail] = True
        fixed_embeds[row, :tail] = embeds[row][start:]
        pos[:, row, :tail] = positions[row][:, start:].to(device)
        pos[:, row, tail:] = response_positions(prompt.length, L - tail, deltas[row]).to(device)
    return ids, fixed, fixed_embeds, pos


def decode_blockwise(bundle, prompts, config, seeds, callbacks: Callbacks | None = None,
                     timer=NULL_TIMER) -> list[RowOutputs]:
    """Decode a batch of encoded prompts; returns raw per-request outputs (ids, stats, traces)."""
    model, special = bundle.model, bundle.special
    device, L = model.device, config.block_length
    callbacks = callbacks or Callbacks()
    outputs = [RowOutputs() for _ in prompts]
    started = now(device)
    with timer("prefill"):
        embeds, positions, deltas = prepare_prompts(model, prompts)
        lengths = [p.length for p in prompts]
        cache, key_valid, width = _prefill(model, embeds, positions, lengths, L, device)
    decode_start = now(device)
    for out, n in zip(outputs, lengths):
        out.stats.prefill_seconds = decode_start - started
        out.stats.prompt_tail = n % L
    ids, fixed, fixed_embeds, pos = _first_block(prompts, embeds, positions, deltas, L, special.mask, device)
    budget = config.max_new_tokens
    rows = _Rows(
        request=list(range(len(prompts))),
        generators=make_generators(seeds, device, config.temperature),
        start=torch.tensor([(n // L) * L for n in lengths], device=device),
        delta=torch.tensor(deltas, device=device),
        blocks_total=torch.tensor([math.ceil((n + budget) / L) - n // L for n in lengths], device=device),
        key_valid=key_valid,
        forwards=torch.zeros(len(prompts), dtype=torch.long, device=device),
        appends=torch.zeros(len(prompts), dtype=torch.long, device=device),
        ids=ids, fixed=fixed, fixed_embeds=fixed_embeds, positions=pos,
        prev_embeds=None, prev_positions=None,
    )
    eos = torch.tensor(special.eos, device=device)
    embed = model.get_input_embeddings()
    block = 0
    while rows.request:
        trace = _denoise_block(model, rows, cache, config, block, special.mask, embed, callbacks, timer)
        generated = ~rows.fixed
        finished = rows.blocks_total == block + 1
        if not config.ignore_eos:
            finished |= (torch.isin(rows.ids, eos) & generated).any(-1)
        # one transfer and plain lists: the per-row bookkeeping below stays cheap Python
        block_ids, gen_rows, finished_rows = rows.ids.cpu().tolist(), generated.cpu().tolist(), finished.cpu().tolist()
        elapsed = now(device) - decode_start
        done_rows = [row for row, done in enumerate(finished_rows) if done]
        counts = (rows.forwards.cpu().tolist(), rows.appends.cpu().tolist()) if done_rows else None
        for row, request in enumerate(rows.request):
            out = outputs[request]
            new_ids = [token for token, new in zip(block_ids[row], gen_rows[row]) if new]
            out.raw_ids.extend(new_ids)
            out.stats.committed_tokens += len(new_ids)
            if trace is not None:
                out.trace.append(trace(row, block, torch.tensor(block_ids[row]), torch.tensor(gen_rows[row])))
            if callbacks.on_block:
                callbacks.on_block(BlockEvent(request, block, new_ids, finished_rows[row]))
        for row in done_rows:
            stats = outputs[rows.request[row]].stats
            stats.decode_seconds = elapsed
            stats.forward_passes, stats.kv_append_passes = counts[0][row], counts[1][row]
        if done_rows:
            rows.keep(torch.nonzero(~finished).flatten(), cache)
        if not rows.request:
            break
        _finish_block(model, rows, cache, config, embed, timer)
        block += 1
        _next_block(rows, block, L, special.mask)
    return outputs


def _block_embeds(rows, embed):
    return torch.where(rows.fixed[..., None], rows.fixed_embeds, embed(rows.ids))


def _denoise_block(model, rows, cache, config, block, mask_id, embed, callbacks, timer):
    """Run denoising steps until no mask is left in the current block of every row."""
    L = config.block_length
    masked = ~rows.fixed
    recording = config.record_trajectory
    commit_step = torch.full_like(rows.ids, -1)
    top_ids = top_probs = None
    needs_entropy = STRATEGIES[config.strategy].needs_entropy
    # one greedy step commits every masked position: only the argmax is needed (no softmax)
    argmax_only = config.num_steps == 1 and config.temperature == 0 and not recording
    step = 0
    while bool(masked.any()):
        active = masked.any(-1)
        fuse = step == 0 and rows.prev_embeds is not None
        with timer("forward"):
            logits = _forward_block(model, rows, cache, _block_embeds(rows, embed), fuse, L)
        if argmax_only:
            with timer("sampling"):
                tokens = logits.argmax(dim=-1)
            commit = masked
        else:
            with timer("sampling"):
                probs = filtered_probs(logits, config.temperature, config.top_k, config.top_p)
                tokens, confidence = sample_tokens(probs, config.temperature, rows.generators, active)
            with timer("remasking"):
                scores = StepScores(confidence.masked_fill(~masked, float("-inf")), masked,
                                    entropy(probs) if needs_entropy else None)
                commit = choose_commits(scores, config.step_quota(step), config)
        with timer("remasking"):
            rows.ids = torch.where(commit, tokens, rows.ids)
            masked = masked & ~commit
        rows.forwards += active.long()
        if recording:
            top_ids, top_probs = _record(logits, commit, config.record_top_k, top_ids, top_probs)
            commit_step = torch.where(commit, step, commit_step)
        if callbacks.on_step:
            _emit_steps(callbacks, rows, block, step, masked, commit, mask_id)
        step += 1
    if not recording:
        return None
    return lambda row, index, ids, generated: BlockTrace(
        index, ids, generated, commit_step[row].cpu(), top_ids[row].cpu(), top_probs[row].cpu()
    )


def _forward_block(model, rows, cache, current, fuse, L):
    """Forward the current block, reading the cache; if ``fuse``, prepend and append the previous block."""
    device = current.device
    past = cache.get_seq_length()
    if fuse:
        inputs = torch.cat([rows.prev_embeds, current], dim=1)
        positions = torch.cat([rows.prev_positions, rows.positions], dim=2)
        cache.commit = L
    else:
        inputs, positions = current, rows.positions
        cache.commit = 0
    width = inputs.shape[1]
    key_valid = torch.cat([rows.key_valid, torch.ones(len(rows.request), width, dtype=torch.bool, device=device)], 1)
    mask = block_causal_mask(torch.arange(past, past + width, device=device), key_valid, L)
    logits = lm_forward(model, inputs, positions, mask, cache, logits_from=width - L)
    cache.commit = None
    if fuse:
        rows.key_valid = key_valid[:, : past + L]
        rows.prev_embeds = rows.prev_positions = None
    return logits


def _finish_block(model, rows, cache, config, embed, timer):
    """Make the finished block's K/V available: now (unfused) or in the next block's first forward."""
    finished_embeds = _block_embeds(rows, embed)
    if config.use_fused:
        rows.prev_embeds, rows.prev_positions = finished_embeds, rows.positions
        return
    with timer("kv_append"):
        device = finished_embeds.device
        past = cache.get_seq_length()
        L = config.block_length
        key_valid = torch.cat([rows.key_valid, torch.ones(len(rows.request), L, dtype=torch.bool, device=device)], 1)
        mask = block_causal_mask(torch.arange(past, past + L, device=device), key_valid, L)
        lm_forward(model, finished_embeds, rows.positions, mask, cache, logits_from=None)
    rows.key_valid = key_valid
    rows.appends += 1


def _next_block(rows, block, L, mask_id):
    """Fresh all-mask block ``block`` for every remaining row."""
    device = rows.ids.device
    offsets = torch.arange(L, device=device)
    canvas = rows.start[:, None] + block * L + offsets[None]  # (B, L) canvas positions
    rows.positions = (canvas + rows.delta[:, None])[None].expand(3, -1, -1)
    rows.ids = torch.full_like(rows.ids, mask_id)
    rows.fixed = torch.zeros_like(rows.fixed)


def _record(logits, commit, k, top_ids, top_probs):
    """Keep the top-k of softmax(logits) at the positions committed in this step."""
    probs = torch.softmax(logits.float(), dim=-1)
    values, indices = torch.topk(probs, min(k, probs.shape[-1]), dim=-1)
    if top_ids is None:
        top_ids, top_probs = torch.zeros_like(indices), torch.zeros_like(values)
    top_ids = torch.where(commit[..., None], indices, top_ids)
    top_probs = torch.where(commit[..., None], values, top_probs)
    return top_ids, top_probs


def _emit_steps(callbacks, rows, block, step, masked, commit, mask_id):
    shown = torch.where(masked, mask_id, rows.ids).cpu()
    commit, generated = commit.cpu(), (~rows.fixed).cpu()
    for row, request in enumerate(rows.request):
        if bool(commit[row].any()):
            callbacks.on_step(
                StepEvent(request, block, step, shown[row].tolist(), commit[row].tolist(), generated[row].tolist())
            )
