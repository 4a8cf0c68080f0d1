"""Neat packing: several segments per row, attention isolated per sample (block-diagonal mask),
positions restarting per sample, images gathered in placeholder order."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from echo_cxr.errors import EchoError
from echo_cxr.training.masks import pack_masks
from echo_cxr.training.segments import IGNORE, Segment


@dataclass
class PackedBatch:
    """Rows of packed segments. ``sample`` maps each slot to its segment (-1 = padding)."""

    input_ids: torch.Tensor  # (B, T)
    positions: torch.Tensor  # (3, B, T)
    mask: torch.Tensor  # (B, 1, T, T) bool
    targets: torch.Tensor  # (B, T)
    weights: torch.Tensor  # (B, T)
    sample: torch.Tensor  # (B, T) segment index or -1
    normalizers: torch.Tensor  # (S,)
    pixel_values: torch.Tensor | None  # (patches, dim), every image once
    image_grid_thw: torch.Tensor | None  # (images, 3)
    image_order: list[int]  # image index of each placeholder run, row-major
    fields: dict[str, torch.Tensor] = field(default_factory=dict)  # (B, T, ...)
    sample_ids: list[str] = field(default_factory=list)
    # per image, the frozen tower's cached output (training/feature_cache.py) instead of pixel_values
    image_features: list[torch.Tensor] | None = None

    def to(self, device) -> "PackedBatch":
        move = lambda t: t.to(device) if isinstance(t, torch.Tensor) else t
        def moved(val):
            if isinstance(val, dict):
                return {n: move(v) for n, v in val.items()}
            if isinstance(val, list) and val and isinstance(val[0], torch.Tensor):
                return [move(v) for v in val]
            return move(val)

        return PackedBatch(**{k: moved(val) for k, val in self.__dict__.items()})


def assign_rows(lengths: list[int], row_tokens: int) -> list[list[int]]:
    """First-fit-decreasing packing of segment lengths into rows of at most ``row_tokens``."""
    rows: list[list[int]] = []
    room: list[int] = []
    for index in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        if lengths[index] > row_tokens:
            raise EchoError(f"a training sequence of {lengths[index]} tokens exceeds the row budget {row_tokens}")
        for row, free in enumerate(room):
            if lengths[index] <= free:
                rows[row].append(index)
                room[row] -= lengths[index]
                break
        else:
            rows.append([index])
            room.append(row_tokens - lengths[index])
    return [sorted(row) for row in rows]


def pack(segments: list[Segment], row_tokens: int | None = None, pad_id: int = 0) -> PackedBatch:
    """Pack segments into rows (``row_tokens=None``: one segment per row)."""
    lengths = [s.length for s in segments]
    rows = [[i] for i in range(len(segments))] if row_tokens is None else assign_rows(lengths, row_tokens)
    width = max(sum(lengths[i] for i in row) for row in rows)
    B = len(rows)
    input_ids = torch.full((B, width), pad_id, dtype=torch.long)
    positions = torch.zeros(3, B, width, dtype=torch.long)
    targets = torch.full((B, width), IGNORE, dtype=torch.long)
    weights = torch.zeros(B, width)
    sample = torch.full((B, width), -1, dtype=torch.long)
    masks, image_order, pixel_parts, grid_parts, feature_parts = [], [], [], [], []
    image_start: dict[int, int] = {}
    for index, seg in enumerate(segments):
        prompt = seg.example.prompt
        if prompt.image_grid_thw is not None:
            image_start[index] = sum(g.shape[0] for g in grid_parts)
            if prompt.image_features is not None:
                feature_parts.extend(prompt.image_features)
            else:
                pixel_parts.append(prompt.pixel_values)
            grid_parts.append(prompt.image_grid_thw)
    if pixel_parts and feature_parts:
        raise EchoError("a batch mixes cached vision features with pixels")
    field_names = sorted({name for seg in segments for name in seg.fields})
    fields = {name: _field_buffer(segments, name, B, width) for name in field_names}
    for r, row in enumerate(rows):
        cursor = 0
        for index in row:
            seg = segments[index]
            span = slice(cursor, cursor + seg.length)
            input_ids[r, span], positions[:, r, span] = seg.input_ids, seg.positions
            targets[r, span], weights[r, span], sample[r, span] = seg.targets, seg.weights, index
            for name in seg.fields:
                fields[name][r, span] = seg.fields[name]
            if index in image_start:
                count = int(seg.example.prompt.image_grid_thw.shape[0])
                image_order.extend(list(range(image_start[index], image_start[index] + count)) * seg.image_copies)
            cursor += seg.length
        masks.append(pack_masks([segments[i].mask for i in row], width))
    return PackedBatch(
        input_ids, positions, torch.stack(masks)[:, None], targets, weights, sample,
        torch.tensor([s.normalizer for s in segments]),
        torch.cat(pixel_parts) if pixel_parts else None, torch.cat(grid_parts) if grid_parts else None,
        image_order, fields, [s.example.sample_id for s in segments], feature_parts or None,
    )


def _field_buffer(segments: list[Segment], name: str, B: int, width: int) -> torch.Tensor:
    sample = next(seg.fields[name] for seg in segments if name in seg.fields)
    fill = -1 if not sample.is_floating_point() and sample.dtype != torch.bool else 0
    return torch.full((B, width, *sample.shape[1:]), fill, dtype=sample.dtype)
