"""DCD teacher targets: what phase 1 records per example and how phase 2 lays it out (METHOD.md
section 4, Direct Conditional Distillation).

A ``TeacherRecord`` is the teacher's own decoding of one study, block by block, from the first
decoding block (which holds the prompt tail) to the block with EOS: the committed tokens (the
pseudo-labels), for each generated slot the step at which it was committed and the teacher's
top-k distribution at that step (conditioned on what had been committed before it).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from echo_cxr.training.examples import Example, check_tail_is_text, Region
from echo_cxr.training.masks import rad_mask
from echo_cxr.training.segments import IGNORE, Segment


@dataclass
class TeacherRecord:
    sample_id: str
    tokens: torch.Tensor  # (N,) region: prompt tail + teacher blocks
    generated: torch.Tensor  # (N,) bool
    commit_step: torch.Tensor  # (N,) long, -1 on the prompt tail
    top_ids: torch.Tensor  # (N, k) long
    top_probs: torch.Tensor  # (N, k) float

    @classmethod
    def from_trajectory(cls, sample_id: str, trajectory) -> "TeacherRecord":
        cat = lambda name: torch.cat([getattr(block, name) for block in trajectory])
        return cls(sample_id, cat("tokens"), cat("generated"), cat("commit_step"), cat("top_ids"),
                   cat("top_probs").float())

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def teacher_region(example: Example, record: TeacherRecord, block_length: int) -> Region:
    """The region the teacher decoded; it must start at the example's last prompt block boundary."""
    from echo_cxr.model.inputs import response_positions

    P = example.prompt_length
    A = (P // block_length) * block_length
    tail = P - A
    if record.tokens.shape[0] % block_length or not torch.equal(record.tokens[:tail], example.prompt.input_ids[A:]):
        raise ValueError(f"teacher record {record.sample_id} does not match its prompt or block length")
    N = record.tokens.shape[0]
    positions = torch.cat([example.prompt_positions[:, A:], response_positions(P, N - tail, example.delta)], 1)
    return Region(A, record.tokens, positions, record.generated.clone())


def distill_segment(example: Example, record: TeacherRecord, settings, noisy_views: int = 1,
                    view_masks: list[torch.Tensor] | None = None) -> Segment:
    """[context | teacher blocks (clean) | noisy view(s)]; by default one fully masked view (one step).

    Fields on noisy slots that are masked: ``teacher_ids``/``teacher_probs`` (k), ``commit_step``,
    ``block`` (block index within the sample), ``eos_slot`` (the first generated EOS),
    ``view`` (1-based view index) and ``region_index`` (slot index within the region).
    """
    L = settings.block_length
    region = teacher_region(example, record, L)
    check_tail_is_text(example, region, settings.image_token_id)
    A, N = region.context, region.length
    views = view_masks or [region.supervised] * noisy_views
    noisy = [torch.where(m, settings.mask_id, region.ids) for m in views]
    ids = torch.cat([example.prompt.input_ids[:A], region.ids, *noisy])
    positions = torch.cat([example.prompt_positions[:, :A], *[region.positions] * (1 + len(views))], dim=1)
    total = A + (1 + len(views)) * N
    targets = torch.full((total,), IGNORE, dtype=torch.long)
    weights = torch.zeros(total)
    k = record.top_ids.shape[1]
    fields = {
        "teacher_ids": torch.full((total, k), -1, dtype=torch.long),
        "teacher_probs": torch.zeros(total, k),
        "commit_step": torch.full((total,), -1, dtype=torch.long),
        "block": torch.full((total,), -1, dtype=torch.long),
        "eos_slot": torch.zeros(total, dtype=torch.bool),
        "view": torch.zeros(total, dtype=torch.long),
        "region_index": torch.full((total,), -1, dtype=torch.long),
    }
    eos = _first_eos(region, settings.eos_id)
    for view, masked in enumerate(views, start=1):
        span = slice(A + view * N, A + (view + 1) * N)
        targets[span] = torch.where(masked, region.ids, IGNORE)
        weights[span] = masked.float()
        fields["teacher_ids"][span] = torch.where(masked[:, None], record.top_ids, -1)
        fields["teacher_probs"][span] = torch.where(masked[:, None], record.top_probs, 0.0)
        fields["commit_step"][span] = torch.where(masked, record.commit_step, -1)
        fields["block"][span] = torch.where(masked, torch.arange(N) // L, -1)
        fields["view"][span] = torch.where(masked, view, 0)
        fields["region_index"][span] = torch.where(masked, torch.arange(N), -1)
        if eos is not None and bool(masked[eos]):
            fields["eos_slot"][A + view * N + eos] = True
    mask = rad_mask(A, N, L, settings.context_attention, noisy_copies=len(views))
    return Segment(example, ids, positions, mask, targets, weights, float(region.supervised.sum()), fields=fields)


def _first_eos(region: Region, eos_id: int) -> int | None:
    hits = torch.nonzero((region.ids == eos_id) & region.supervised).flatten()
    return int(hits[0]) if hits.numel() else None
