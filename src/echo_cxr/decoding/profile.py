"""Per-phase timing of a decode (the release profiler's phases, METHOD.md section 3).

Phases: ``prefill`` (vision tower + prompt prefix), ``forward`` (denoising forwards, fused ones
included), ``sampling``, ``remasking``, ``kv_append`` (separate K/V-append forwards). The device
is synchronised around every phase, which costs a little time: the plain decoder runs with the
no-op ``NULL_TIMER``.
"""

from __future__ import annotations

import time
from collections import defaultdict
from contextlib import nullcontext

from echo_cxr.decoding.timing import synchronize

PHASES = ("prefill", "forward", "sampling", "remasking", "kv_append")


class PhaseTimer:
    """Accumulates seconds per phase name, with device synchronisation.

    ``with timer("forward"): ...`` - a plain context-manager object (no generator per use; phases do
    not nest): the decoders enter it a few times per block, and its cost counts as decoder overhead.
    """

    def __init__(self, device):
        self.device = device
        self.seconds: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)
        self._sync = device.type == "cuda"
        self._phase, self._start = "", 0.0

    def __call__(self, phase: str) -> "PhaseTimer":
        self._phase = phase
        return self

    def __enter__(self) -> None:
        if self._sync:
            synchronize(self.device)
        self._start = time.perf_counter()

    def __exit__(self, *exc) -> None:
        if self._sync:
            synchronize(self.device)
        self.seconds[self._phase] += time.perf_counter() - self._start
        self.counts[self._phase] += 1

    def as_dict(self) -> dict[str, float]:
        return {phase: self.seconds.get(phase, 0.0) for phase in PHASES}


class _NullTimer:
    def __call__(self, phase: str):
        return nullcontext()


NULL_TIMER = _NullTimer()
