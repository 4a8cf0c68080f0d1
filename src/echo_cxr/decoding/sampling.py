"""Token sampling and confidences (METHOD.md section 3).

Temperature 0: argmax, confidence = softmax probability of the argmax. Otherwise logits / T, top-k,
top-p, draw; confidence = probability of the drawn token under the filtered distribution. Draws use
one ``torch.Generator`` per request (exponential-race sampling), so a request gets the same tokens
whether it is decoded alone or in a batch.
"""

from __future__ import annotations

import torch


def filtered_probs(logits: torch.Tensor, temperature: float, top_k: int, top_p: float) -> torch.Tensor:
    """Sampling distribution (…, V) in float32: temperature, then top-k, then top-p (nucleus)."""
    logits = logits.float()
    if temperature == 0:
        return torch.softmax(logits, dim=-1)
    logits = logits / temperature
    if top_k and top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
        cumulative = torch.softmax(sorted_logits, dim=-1).cumsum(-1)
        drop_sorted = (cumulative - torch.softmax(sorted_logits, dim=-1)) >= top_p  # keep the first over p
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        logits = logits.masked_fill(drop, float("-inf"))
    return torch.softmax(logits, dim=-1)


def entropy(probs: torch.Tensor) -> torch.Tensor:
    """Shannon entropy (nats) over the last axis."""
    return -(probs * probs.clamp_min(torch.finfo(probs.dtype).tiny).log()).sum(-1)


def sample_tokens(
    probs: torch.Tensor,
    temperature: float,
    generators: list[torch.Generator | None],
    rows: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw a token for every position. probs: (B, L, V); rows: (B,) bool, rows that need draws.

    Returns tokens (B, L) and their confidences (B, L). Rows outside ``rows`` get the argmax and
    leave their generator untouched.
    """
    if temperature == 0:
        confidence, tokens = probs.max(dim=-1)
        return tokens, confidence
    race = probs.clone()
    for row in torch.nonzero(rows).flatten().tolist():
        noise = torch.empty(probs.shape[1:], device=probs.device, dtype=probs.dtype)
        noise.exponential_(generator=generators[row])
        race[row] = probs[row] / noise
    tokens = race.argmax(dim=-1)
    return tokens, probs.gather(-1, tokens[..., None]).squeeze(-1)


def make_generators(seeds: list[int], device: torch.device, temperature: float) -> list[torch.Generator | None]:
    """One seeded generator per request (none needed for greedy decoding)."""
    if temperature == 0:
        return [None] * len(seeds)
    return [torch.Generator(device=device).manual_seed(seed) for seed in seeds]
