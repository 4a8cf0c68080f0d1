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
from echo_cxr.model.inputs import lm_forward, prepare_prompts, response_positions, token_embedder
from echo_cxr.model.masks import append_mask, block_causal_mask


class _Rows:
    """Per-row tensors of the rows still decoding; ``keep`` drops finished rows everywhere."""

    SHARED = frozenset({"mask_embeds"})  # the same for every row

    def __init__(self, **tensors):
        self.__dict__.update(tensors)

    def keep(self, index: torch.Tensor, cache: BlockKVCache) -> None:
        for name, value in list(self.__dict__.items()):
            if name in self.SHARED:
                continue
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
    blocks_total = [math.ceil((n + budget) / L) - n // L for n in lengths]
    start = torch.tensor([(n // L) * L for n in lengths], device=device)
    # every key after the prompt prefix is valid: one buffer, read as a prefix (no per-block concatenation)
    valid = torch.ones(len(prompts), width + (max(blocks_total) + 1) * L, dtype=torch.bool, device=device)
    valid[:, :width] = key_valid
    embed = token_embedder(model)
    rows = _Rows(
        request=list(range(len(prompts))),
        generators=make_generators(seeds, device, config.temperature),
        rope_base=(start + torch.tensor(deltas, device=device))[:, None] + torch.arange(L, device=device),  # (B, L)
        blocks_total=blocks_total,
        key_valid=valid,
        forwards=torch.zeros(len(prompts), dtype=torch.long, device=device),
        appends=torch.zeros(len(prompts), dtype=torch.long, device=device),
        ids=ids, fixed=fixed, fixed_embeds=fixed_embeds, positions=pos,
        prev_embeds=None, prev_positions=None,
        mask_embeds=embed(torch.full((1, L), special.mask, device=device)),  # (1, L, D) a fresh block
    )
    eos = set(special.eos)
    block = 0
    while rows.request:
        trace = _denoise_block(model, rows, cache, config, block, special.mask, embed, callbacks, timer)
        keep = _collect_block(outputs, rows, block, trace, config.ignore_eos, eos, callbacks, decode_start)
        if len(keep) < len(rows.request):
            rows.keep(torch.tensor(keep, dtype=torch.long, device=device), cache)
        if not rows.request:
            break
        _finish_block(model, rows, cache, config, embed, timer)
        block += 1
        _next_block(rows, block, L, special.mask)
    return outputs


def _collect_block(outputs, rows, block, trace, ignore_eos, eos, callbacks, decode_start) -> list[int]:
    """Hand the finished block's tokens to each row's outputs; returns the rows that go on.

    One transfer, then plain lists: the per-row bookkeeping stays cheap Python.
    """
    block_ids = rows.ids.tolist()
    all_new = rows.fixed_embeds is None  # no prompt tail in this block: every slot was generated
    generated = [[True] * len(block_ids[0])] * len(block_ids) if all_new else (~rows.fixed).tolist()
    keep, elapsed, counts = [], None, None
    for row, request in enumerate(rows.request):
        out = outputs[request]
        new_ids = [token for token, new in zip(block_ids[row], generated[row]) if new]
        done = rows.blocks_total[row] == block + 1 or (not ignore_eos and any(t in eos for t in new_ids))
        out.raw_ids.extend(new_ids)
        out.stats.committed_tokens += len(new_ids)
        if trace is not None:
            out.trace.append(trace(row, block, torch.tensor(block_ids[row]), torch.tensor(generated[row])))
        if callbacks.on_block:
            callbacks.on_block(BlockEvent(request, block, new_ids, done))
        if not done:
            keep.append(row)
            continue
        if elapsed is None:
            elapsed = now(rows.ids.device) - decode_start
            counts = rows.forwards.tolist(), rows.appends.tolist()
        out.stats.decode_seconds = elapsed
        out.stats.forward_passes, out.stats.kv_append_passes = counts[0][row], counts[1][row]
    return keep


def _block_embeds(rows, embed, fresh=False):
    """(B, L, D) input embeddings of the current block; ``fresh``: nothing committed yet in it."""
    if rows.fixed_embeds is None:  # no prompt tail in this block
        return rows.mask_embeds.expand(len(rows.request), -1, -1) if fresh else embed(rows.ids)
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
    step, block_mask = 0, None  # the unfused steps of a block share one mask
    active, actives = masked.any(-1), []  # (B,) rows with masks left, per step
    while bool(active.any()):
        actives.append(active)
        fuse = step == 0 and rows.prev_embeds is not None
        if not fuse and block_mask is None:
            block_mask = _mask_after_cache(rows, cache, L, L)
        current = _block_embeds(rows, embed, fresh=step == 0)
        logits = _forward_block(model, rows, cache, current, fuse, L, timer, block_mask)
        with timer("sampling"):
            if argmax_only:
                tokens, commit = logits.argmax(dim=-1), masked
            else:
                probs = filtered_probs(logits, config.temperature, config.top_k, config.top_p)
                tokens, confidence = sample_tokens(probs, config.temperature, rows.generators, active)
        with timer("remasking"):
            if not argmax_only:
                scores = StepScores(torch.where(masked, confidence, float("-inf")), masked,
                                    entropy(probs) if needs_entropy else None)
                commit = choose_commits(scores, config.step_quota(step), config)
            rows.ids = torch.where(commit, tokens, rows.ids)
            masked = masked ^ commit  # commit is a subset of masked
        if recording:
            top_ids, top_probs = _record(logits, commit, config.record_top_k, top_ids, top_probs)
            commit_step = torch.where(commit, step, commit_step)
        if callbacks.on_step:
            _emit_steps(callbacks, rows, block, step, masked, commit, mask_id)
        step += 1
        active = masked.any(-1)
    rows.forwards += torch.stack(actives).sum(0)
    if not recording:
        return None
    return lambda row, index, ids, generated: BlockTrace(
        index, ids, generated, commit_step[row].cpu(), top_ids[row].cpu(), top_probs[row].cpu()
    )


def _forward_block(model, rows, cache, current, fuse, L, timer, block_mask):
    """Forward the current block, reading the cache; if ``fuse``, prepend and append the previous block.

    ``block_mask``: the mask of an unfused forward (``append_mask`` of the current block).
    """
    if fuse:
        inputs = torch.cat([rows.prev_embeds, current], dim=1)
        positions = torch.cat([rows.prev_positions, rows.positions], dim=2)
        cache.commit = L
    else:
        inputs, positions = current, rows.positions
        cache.commit = 0
    width = inputs.shape[1]
    mask = _mask_after_cache(rows, cache, width, L) if fuse else block_mask
    with timer("forward"):
        logits = lm_forward(model, inputs, positions, mask, cache, logits_from=width - L)
    cache.commit = None
    if fuse:
        rows.prev_embeds = rows.prev_positions = None
    return logits


def _mask_after_cache(rows, cache, width, L):
    """(B, 1, width, past + width) mask of ``width`` new tokens after the cache's committed keys."""
    return append_mask(rows.key_valid[:, : cache.get_seq_length()], width, L)


def _finish_block(model, rows, cache, config, embed, timer):
    """Make the finished block's K/V available: now (unfused) or in the next block's first forward."""
    finished_embeds = _block_embeds(rows, embed)
    if config.use_fused:
        rows.prev_embeds, rows.prev_positions = finished_embeds, rows.positions
        return
    L = config.block_length
    mask = _mask_after_cache(rows, cache, L, L)
    with timer("kv_append"):
        lm_forward(model, finished_embeds, rows.positions, mask, cache, logits_from=None)
    rows.appends += 1


def _next_block(rows, block, L, mask_id):
    """Fresh all-mask block ``block`` for every remaining row (no prompt tail any more)."""
    rows.positions = (rows.rope_base + block * L)[None].expand(3, -1, -1)  # canvas index + delta, all axes
    rows.ids = torch.full_like(rows.ids, mask_id)
    rows.fixed = torch.zeros_like(rows.fixed)
    rows.fixed_embeds = None


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
