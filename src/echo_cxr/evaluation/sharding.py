"""Sharding batch inference across processes started by ``accelerate launch``.

Each process decodes every ``world``-th pending sample and appends to its own shard file
``<out>.shard-RANK-of-WORLD``; when all are done the main process merges the shards into ``<out>``
in the run's global order (dropping nothing, each sample once) and removes them. Merging is
idempotent, so a run killed during a merge is finished by ``--resume``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from echo_cxr.evaluation.results import TAIL_REPAIR, Key, append_records, read_records, record_key

SHARD_MARK = ".shard-"
WORLD_SIZE_ENV = "WORLD_SIZE"


@dataclass
class ProcessGroup:
    """This process's place among the launched ones."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    barrier: Callable[[], None] = lambda: None

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def current_group(cpu: bool) -> ProcessGroup:
    """The accelerate process group when launched with several processes, else a single process.

    ``cpu``: decode on CPU; the processes then talk over gloo (accelerate's MULTI_CPU). Note that
    ``accelerate launch --cpu --num_processes N`` starts one process unless given an MPI hostfile;
    ``accelerate launch --multi_gpu --num_processes N`` (torchrun) starts N, also without GPUs.
    """
    if int(os.environ.get(WORLD_SIZE_ENV, "1")) <= 1:
        return ProcessGroup()
    from accelerate import PartialState

    state = PartialState(cpu=cpu)
    return ProcessGroup(state.process_index, state.num_processes, state.local_process_index,
                        state.wait_for_everyone)


def shard_path(out: Path, rank: int, world: int) -> Path:
    return out.with_name(f"{out.name}{SHARD_MARK}{rank}-of-{world}")


def leftover_shards(out: Path) -> list[Path]:
    """Shard files of ``out`` left by an earlier (interrupted) run, whatever its process count."""
    return sorted(out.parent.glob(f"{out.name}{SHARD_MARK}*"))


def merge_shards(out: Path, shards: Sequence[Path], order: dict[Key, int]) -> int:
    """Append the shards' records missing from ``out`` in global order, then delete the shards.

    Returns how many records were added. Records whose key is unknown to ``order`` (another
    run) are kept at the end, for ``score`` to reject loudly.
    """
    present = {record_key(r) for r in read_records(out, tail=TAIL_REPAIR)} if out.exists() else set()
    extra: dict[Key, dict] = {}
    for shard in shards:
        for record in read_records(shard, tail=TAIL_REPAIR):
            key = record_key(record)
            if key not in present:
                extra.setdefault(key, record)
    ranked = sorted(extra.items(), key=lambda item: order.get(item[0], len(order)))
    append_records(out, [record for _, record in ranked])
    for shard in shards:
        shard.unlink()
    return len(ranked)
