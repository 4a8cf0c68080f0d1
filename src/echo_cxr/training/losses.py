"""Training losses as pure tensor functions (METHOD.md sections 4 and 5).

Inputs are flattened over the selected slots: logits (K, V), per-slot tensors (K, ...), and
``sample`` (K,) - the sample each slot belongs to - so that every sample gets its own loss,
whatever the packing. Per-sample losses are then averaged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def per_sample_sum(values: torch.Tensor, sample: torch.Tensor, num_samples: int) -> torch.Tensor:
    """(S,) sum of ``values`` (K,) per sample."""
    return torch.zeros(num_samples, dtype=values.dtype, device=values.device).index_add(0, sample, values)


def weighted_cross_entropy(logits, targets, weights, sample, normalizers) -> torch.Tensor:
    """(S,) sum_i w_i CE(logits_i, target_i) / normalizer_s  (RAD: w = 1/t, normalizer = #response)."""
    ce = F.cross_entropy(logits.float(), targets, reduction="none")
    return per_sample_sum(weights * ce, sample, normalizers.shape[0]) / normalizers


def renormalised(probs: torch.Tensor) -> torch.Tensor:
    """Top-k probabilities renormalised to sum to one (K, k)."""
    return probs / probs.sum(-1, keepdim=True).clamp_min(torch.finfo(probs.dtype).tiny)


def forward_kl_topk(student_logits, teacher_ids, teacher_probs) -> torch.Tensor:
    """(K,) KL(P_teacher || p_student) on the teacher's top-k support (teacher renormalised)."""
    p = renormalised(teacher_probs.float())
    log_q = torch.log_softmax(student_logits.float(), -1).gather(-1, teacher_ids)
    return (p * (p.clamp_min(torch.finfo(p.dtype).tiny).log() - log_q)).sum(-1)


def reverse_kl_topk(student_logits, teacher_ids, teacher_probs) -> torch.Tensor:
    """(K,) KL(q_student || P_teacher), both restricted and renormalised to the teacher's top-k."""
    p = renormalised(teacher_probs.float())
    log_q = torch.log_softmax(student_logits.float().gather(-1, teacher_ids), -1)
    return (log_q.exp() * (log_q - p.clamp_min(torch.finfo(p.dtype).tiny).log())).sum(-1)


def step_weights(commit_step: torch.Tensor, group: torch.Tensor) -> torch.Tensor:
    """(K,) weights proportional to (commit step + 1), scaled to mean 1 within each group (block).

    Later-committed positions carry more mean-field bias and get more weight (DCD, sec. 4).
    """
    raw = (commit_step + 1).float()
    groups = int(group.max()) + 1 if group.numel() else 0
    total = torch.zeros(groups, device=raw.device).index_add(0, group, raw)
    count = torch.zeros(groups, device=raw.device).index_add(0, group, torch.ones_like(raw))
    return raw / (total / count)[group]


def entropy(logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """(K,) entropy of softmax(logits / temperature)."""
    log_p = torch.log_softmax(logits.float() / temperature, -1)
    return -(log_p.exp() * log_p).sum(-1)


def consistency_kl(high_logits, low_logits, temperature: float) -> torch.Tensor:
    """(K,) T^2 KL(sg(p_low/T) || p_high/T): the high-noise view matches the low-noise view (CD4LM)."""
    target = torch.softmax(low_logits.detach().float() / temperature, -1)
    log_high = torch.log_softmax(high_logits.float() / temperature, -1)
    return temperature**2 * (target * (target.clamp_min(1e-30).log() - log_high)).sum(-1)
