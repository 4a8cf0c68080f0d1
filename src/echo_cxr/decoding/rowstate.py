"""Per-request accumulators shared by all decoders."""

from __future__ import annotations

from dataclasses import dataclass, field

from echo_cxr.decoding.results import BlockTrace, DecodeStats


@dataclass
class RowOutputs:
    """What a decoder collects for one request before text is made."""

    raw_ids: list[int] = field(default_factory=list)  # committed response ids, whole blocks
    stats: DecodeStats = field(default_factory=DecodeStats)
    trace: list[BlockTrace] = field(default_factory=list)
