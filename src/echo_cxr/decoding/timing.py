"""Wall-clock timing with device synchronisation (CUDA work is asynchronous)."""

from __future__ import annotations

import time

import torch


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def now(device: torch.device) -> float:
    """Seconds, after all queued device work is done."""
    synchronize(device)
    return time.perf_counter()
