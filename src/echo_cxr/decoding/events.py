"""Callbacks for streaming: one event per denoising step and per finished block."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class StepEvent:
    """A denoising step of one request's current block."""

    request: int
    block: int
    step: int
    tokens: list[int]  # (L,) ids, the mask id where still masked
    committed: list[bool]  # (L,) committed at this step
    generated: list[bool]  # (L,) response slots (False for prompt-tail slots)


@dataclass(frozen=True)
class BlockEvent:
    """A block finished for one request."""

    request: int
    block: int
    token_ids: list[int]  # response ids committed in this block
    final: bool  # the request stops after this block


@dataclass
class Callbacks:
    on_step: Callable[[StepEvent], None] | None = None
    on_block: Callable[[BlockEvent], None] | None = None
