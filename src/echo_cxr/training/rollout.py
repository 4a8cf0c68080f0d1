"""DCD phase 1: on-policy teacher trajectories with the shared decoder, cached on disk.

The teacher decodes each training study itself (context = prompt + its own earlier blocks) with
the ``confidence_threshold`` rule (commit every masked position with confidence >= tau, else the
single most confident), one block at a time, recording for every committed position the step and
its top-k distribution. Trajectories that end in a repetition loop (or never reach EOS) are
dropped. Records are appended to shards under a folder with an index, so the phase resumes. One
process at a time writes a folder (an exclusive lock): two would number their shards alike and
overwrite each other's.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

from echo_cxr.decoding import DecodeConfig, generate
from echo_cxr.errors import EchoError
from echo_cxr.training.teacher import TeacherRecord

INDEX_FILE = "index.json"
LOCK_FILE = ".lock"
SHARD_PATTERN = "records-{:05d}.pt"
TEACHER_STRATEGY = "confidence_threshold"


@dataclass(frozen=True)
class RolloutSettings:
    block_length: int
    threshold: float = 0.9
    top_k: int = 16
    max_new_tokens: int = 256
    batch_size: int = 8
    repeat_ngram: int = 4  # a trajectory whose last tokens repeat an n-gram this long ...
    repeat_count: int = 3  # ... this many times in a row is a degenerate loop
    require_eos: bool = True  # drop trajectories that never reach EOS
    drop_repeats: bool = True  # drop trajectories with a repetition loop

    def decode_config(self) -> DecodeConfig:
        return DecodeConfig(block_length=self.block_length, steps=self.block_length, strategy=TEACHER_STRATEGY,
                            threshold=self.threshold, max_new_tokens=self.max_new_tokens,
                            record_trajectory=True, record_top_k=self.top_k)


def repeats_in_a_row(tokens: list[int], ngram: int, count: int) -> bool:
    """True if some n-gram (length 1..ngram) occurs ``count`` times back to back anywhere."""
    for n in range(1, ngram + 1):
        for start in range(0, len(tokens) - n * count + 1):
            piece = tokens[start : start + n]
            if all(tokens[start + i * n : start + (i + 1) * n] == piece for i in range(1, count)):
                return True
    return False


def drop_reason(result, settings: RolloutSettings) -> str | None:
    """Why a teacher trajectory is unusable, or None."""
    if settings.require_eos and result.finish_reason != "eos":
        return "no EOS within the token budget"
    if settings.drop_repeats and repeats_in_a_row(result.token_ids, settings.repeat_ngram, settings.repeat_count):
        return "repetition loop"
    return None


class RecordStore:
    """Teacher records on disk: shards + an index of finished and dropped sample ids."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.index = self._read_index()

    def _read_index(self) -> dict:
        index_path = self.folder / INDEX_FILE
        return json.loads(index_path.read_text()) if index_path.is_file() else {"shards": [], "dropped": {}}

    def done(self) -> set[str]:
        return {sid for shard in self.index["shards"] for sid in shard["ids"]} | set(self.index["dropped"])

    def add(self, records: list[TeacherRecord], dropped: dict[str, str]) -> None:
        if records:
            name = SHARD_PATTERN.format(len(self.index["shards"]))
            torch.save([r.as_dict() for r in records], self.folder / name)
            self.index["shards"].append({"file": name, "ids": [r.sample_id for r in records]})
        self.index["dropped"].update(dropped)
        tmp = self.folder / (INDEX_FILE + ".tmp")
        tmp.write_text(json.dumps(self.index, indent=1))
        tmp.replace(self.folder / INDEX_FILE)

    @contextmanager
    def writing(self):
        """Hold the folder's exclusive lock, with the index as it is on disk now."""
        handle = _lock(self.folder / LOCK_FILE)
        try:
            self.index = self._read_index()
            yield self
        finally:
            handle.close()

    def load(self) -> dict[str, TeacherRecord]:
        records = {}
        for shard in self.index["shards"]:
            for item in torch.load(self.folder / shard["file"], weights_only=True):
                records[item["sample_id"]] = TeacherRecord(**item)
        return records


def _lock(path: Path):
    """An open file holding an exclusive lock on ``path``; an error if another process holds it."""
    handle = open(path, "a")
    try:
        import fcntl
    except ImportError:  # not a POSIX system: no lock
        return handle
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise EchoError(f"another process is writing the teacher records in {path.parent}; "
                        "wait for it or stop it first") from None
    return handle


def collect_teacher_records(teacher, items, settings: RolloutSettings, store: RecordStore, progress=None) -> None:
    """Decode every (sample_id, Study) not yet in ``store`` with the teacher; append in batches,
    holding the store's lock throughout."""
    with store.writing():
        _collect(teacher, items, settings, store, progress)


def _collect(teacher, items, settings: RolloutSettings, store: RecordStore, progress) -> None:
    done = store.done()
    todo = [(sid, study) for sid, study in items if sid not in done]
    config = settings.decode_config()
    for start in range(0, len(todo), settings.batch_size):
        batch = todo[start : start + settings.batch_size]
        results = generate(teacher, [study for _, study in batch], config)
        records, dropped = [], {}
        for (sid, _), result in zip(batch, results):
            reason = drop_reason(result, settings)
            if reason:
                dropped[sid] = reason
            else:
                records.append(TeacherRecord.from_trajectory(sid, result.trajectory))
        store.add(records, dropped)
        if progress:
            progress(len(batch))
