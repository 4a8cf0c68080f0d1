"""Resumable batch inference over release-schema test sets (issue 5, item 1).

Samples are decoded in batches through the one decoder (``echo_cxr.decoding.generate``) with the
language-appropriate release prompt; each batch's records (``pipeline.report_record`` plus the
sample's identity, reference, labels and run id) are appended, flushed and fsynced before the
next batch starts. ``resume`` skips samples already in the results file; a sample whose images are
missing or unreadable becomes an error record and the run goes on. Under ``accelerate launch``
the pending samples are dealt round-robin to the processes (see ``sharding``).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from echo_cxr.decoding.config import DECODERS
from echo_cxr.errors import EchoError
from echo_cxr.evaluation.data import Sample, read_datasets
from echo_cxr.evaluation.results import (
    RECORD_VERSION, TAIL_IGNORE, TAIL_REPAIR, Key, append_records, read_records, record_key,
)
from echo_cxr.evaluation.sharding import ProcessGroup, current_group, leftover_shards, merge_shards, shard_path
from echo_cxr.pipeline import DEFAULT_MODEL_SPEC, check_settings

DEFAULT_BATCH_SIZE = 8
RUN_ID_CHARS = 16
Item = tuple[Sample, int]  # (sample, draw index)


@dataclass(frozen=True)
class InferConfig:
    """What to decode, with which model and settings, and where to write it."""

    data: tuple[str, ...]
    out: str
    model: str = DEFAULT_MODEL_SPEC
    batch_size: int = DEFAULT_BATCH_SIZE
    resume: bool = False
    samples: int = 1  # draws per input (seeds seed, seed+1, ...); > 1 needs temperature > 0
    decoder: str = "blockwise"
    decoding: dict = field(default_factory=dict)  # DecodeConfig overrides; None = model default
    seed: int = 0  # decoding seed, and the weights of random:PRESET models
    device: str = "cpu"
    dtype: str = "float32"
    attention: str = "sdpa"
    max_pixels: int | None = None
    quantize: str = "none"  # or auto (the CLI's default): the run id holds the format it resolved to

    def __post_init__(self) -> None:
        if not self.data:
            raise EchoError("no data file given (--data A.json [B.json ...])")
        if self.batch_size < 1:
            raise EchoError(f"batch size must be at least 1, got {self.batch_size}")
        if self.samples < 1:
            raise EchoError(f"samples per input must be at least 1, got {self.samples}")
        if self.decoder not in DECODERS:
            raise EchoError(f"unknown decoder {self.decoder!r}; choose one of {', '.join(DECODERS)}")
        check_settings(**self.decoding, seed=self.seed)


@dataclass
class BatchEvent:
    """Progress after one batch of this process."""

    done: int
    total: int
    new_tokens: int
    seconds: float  # since decoding began (model loading excluded)
    failures: int


@dataclass
class InferSummary:
    """What a run did; ``failures`` lists every sample recorded as an error (this run and earlier)."""

    run_id: str
    out: str
    total: int  # samples x draws of the whole run
    already_done: int  # found in the results file when resuming
    written: int  # records written by this run (all processes, as seen by the main one)
    failures: list[dict]
    seconds: float
    new_tokens: int


def run_id(model: str, decoding: dict, decoder: str, dtype: str, max_pixels: int | None,
           samples: int, digests: Sequence[str], quantize: str = "none") -> str:
    """Hash of everything that determines the outputs (not batch size, device or process count)."""
    payload = {"model": model, "decoding": decoding, "decoder": decoder, "dtype": dtype,
               "max_pixels": max_pixels, "samples": samples, "data": sorted(digests),
               "record_version": RECORD_VERSION}
    if quantize != "none":  # runs from before quantization existed keep their ids
        payload["quantize"] = quantize
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:RUN_ID_CHARS]


def item_key(item: Item) -> Key:
    sample, draw = item
    return sample.source_digest, sample.sample_id, draw


def _identity(sample: Sample, draw: int, run: str, total: int) -> dict:
    record = {"run_id": run, "run_total": total, "sample_id": sample.sample_id, "sample_index": draw,
              "source": sample.source, "source_digest": sample.source_digest, "language": sample.language,
              "reference": {"findings": sample.findings, "impression": sample.impression, "text": sample.reference}}
    if sample.labels is not None:
        record["labels"] = sample.labels
    return record


def _check_out(out: Path, resume: bool) -> None:
    if resume:
        return
    if out.exists():
        raise EchoError(f"{out} already exists; pass --resume to continue that run, or choose another --out")
    if leftover_shards(out):
        raise EchoError(f"shard files of an interrupted run lie beside {out} ({leftover_shards(out)[0].name}, ...); "
                        "pass --resume to finish that run, or delete them")


def _finished(out: Path, run: str) -> list[dict]:
    """Records already written for this run (results file and leftover shards); read-only."""
    records: list[dict] = []
    for path in ([out] if out.exists() else []) + leftover_shards(out):
        for record in read_records(path, tail=TAIL_IGNORE):
            if record.get("run_id") != run:
                raise EchoError(
                    f"{path} holds results of another run (run id {record.get('run_id')}, this run is {run}): "
                    "a different model, decoding settings or data files; use another --out")
            records.append(record)
    return records


def _error_record(bundle, item: Item, run: str, total: int, config, dcfg, message: str) -> dict:
    sample, draw = item
    return {**_identity(sample, draw, run, total), "model": bundle.name, "quantize": bundle.quantize, "images": list(sample.images),
            "report": None, "findings": None, "impression": None, "decoder": config.decoder,
            "decoding": dcfg.as_dict(), "stats": None, "error": message}


def _study(item: Item, dcfg):
    """The decoder's request for one draw: the sample's views, its language's release prompt."""
    from echo_cxr.decoding import Study

    sample, draw = item
    return Study(list(sample.images), language=sample.language, seed=dcfg.seed + draw)


def _decode(bundle, items: Sequence[Item], dcfg, config) -> list:
    from echo_cxr.decoding import generate

    return generate(bundle, [_study(item, dcfg) for item in items], dcfg, decoder=config.decoder)


def decode_batch(bundle, batch: Sequence[Item], dcfg, config: InferConfig, run: str, total: int) -> list[dict]:
    """Records of one batch, in batch order; failing samples become error records."""
    from echo_cxr.pipeline import report_record

    records: dict[int, dict] = {}
    ready = []
    for index, item in enumerate(batch):
        missing = item[0].missing_images()
        if missing:
            records[index] = _error_record(bundle, item, run, total, config, dcfg, f"image not found: {', '.join(missing)}")
        else:
            ready.append(index)
    groups = [ready] if ready else []
    results: dict[int, object] = {}
    while groups:
        group = groups.pop()
        try:
            for index, result in zip(group, _decode(bundle, [batch[i] for i in group], dcfg, config)):
                results[index] = result
        except EchoError as err:  # e.g. an unreadable image: isolate the failing sample(s)
            if len(group) == 1:
                records[group[0]] = _error_record(bundle, batch[group[0]], run, total, config, dcfg, str(err))
            else:
                groups.extend([[i] for i in group])
    for index, result in results.items():
        sample, draw = batch[index]
        records[index] = {**_identity(sample, draw, run, total),
                          **report_record(bundle, _study(batch[index], dcfg), result, dcfg, config.decoder),
                          "error": None}
    return [records[i] for i in sorted(records)]


def _device(config: InferConfig, group: ProcessGroup) -> str:
    if group.world > 1 and config.device in ("cuda", "auto"):
        return f"cuda:{group.local_rank}"
    return config.device


def run_inference(config: InferConfig, on_batch: Callable[[BatchEvent], None] | None = None) -> InferSummary:
    """Decode every pending sample of ``config.data`` into ``config.out`` (see module docstring)."""
    from echo_cxr.model import load
    from echo_cxr.pipeline import decode_config

    started = time.perf_counter()
    samples = read_datasets(config.data)  # validate every file before loading a model
    out = Path(config.out)
    _check_out(out, config.resume)
    group = current_group(cpu=config.device == "cpu")
    bundle = load(config.model, device=_device(config, group), dtype=config.dtype, seed=config.seed,
                  attention=config.attention, max_pixels=config.max_pixels, quantize=config.quantize)
    dcfg = decode_config(bundle, config.decoder, **config.decoding, seed=config.seed)
    if config.samples > 1 and dcfg.temperature == 0:
        raise EchoError("several samples per input need --temperature > 0 (greedy draws are identical)")
    run = run_id(bundle.name, dcfg.as_dict(), config.decoder, config.dtype, config.max_pixels, config.samples,
                 sorted({s.source_digest for s in samples}), bundle.quantize)
    items = [(sample, draw) for sample in samples for draw in range(config.samples)]
    order = {item_key(item): index for index, item in enumerate(items)}
    finished = _finished(out, run)  # every process checks, so that all fail alike on a foreign file
    group.barrier()
    if group.is_main and leftover_shards(out):
        merge_shards(out, leftover_shards(out), order)
    done = {record_key(r) for r in finished}
    mine = [item for item in items if item_key(item) not in done][group.rank :: group.world]
    group.barrier()
    target = shard_path(out, group.rank, group.world) if group.world > 1 else out
    if group.world == 1 and out.exists():
        read_records(out, tail=TAIL_REPAIR)  # drop a line cut short by a kill before appending
    written, tokens, failures = 0, 0, [r for r in finished if r.get("error")]
    decode_started = time.perf_counter()
    for start in range(0, len(mine), config.batch_size):
        records = decode_batch(bundle, mine[start : start + config.batch_size], dcfg, config, run, len(items))
        append_records(target, records)
        written += len(records)
        tokens += sum(r["stats"]["new_tokens"] for r in records if r["stats"])
        failures.extend(r for r in records if r["error"])
        if on_batch is not None:
            on_batch(BatchEvent(written, len(mine), tokens, time.perf_counter() - decode_started, len(failures)))
    group.barrier()
    if group.world > 1 and group.is_main:  # report for the whole run
        merge_shards(out, leftover_shards(out), order)
        merged = read_records(out)
        written, failures = len(merged) - len(done), [r for r in merged if r.get("error")]
        tokens = sum(r["stats"]["new_tokens"] for r in merged if r.get("stats") and record_key(r) not in done)
    group.barrier()
    failed = [{k: r[k] for k in ("sample_id", "source", "sample_index", "error")} for r in failures]
    return InferSummary(run, str(out), len(items), len(done), written, failed, time.perf_counter() - started, tokens)
