"""Decode-speed profiler (``echo-cxr bench decode``): AR vs multi-step vs one-step, fused and
unfused, on the same model in one run (METHOD.md section 3, speed metrics).

For every run kind (``fixed`` = ``--ignore-eos`` runs of exactly the token budget, ``natural`` =
stop at EOS) and batch size: warm-up runs of every mode, then the repeats, taken in turns across
the modes, whose medians are reported, with the per-phase times of ``PhaseTimer``
(device-synchronised). ``ar`` is next-token autoregressive decoding on the same weights, one token
per forward: what an AR model of this size costs, the paper's speed baseline.

Several CPU formats (``--quantize none,int8,bf16``) are measured one after the other on the same
weights; ``merge_format_reports`` joins them and ``best_ratio`` gives each mode its fastest format:
best ECHO (any diffusion mode) over best AR, the comparison docs/benchmarks.md reports. Every
report carries the CPU's model and flags (model/cpu_features.py).
"""

from __future__ import annotations

import platform
import statistics
from dataclasses import asdict, dataclass, replace
from datetime import date

import numpy as np
import torch

from echo_cxr.decoding import DecodeConfig, Study, generate
from echo_cxr.decoding.profile import PHASES, PhaseTimer
from echo_cxr.errors import EchoError
from echo_cxr.model.bundle import PREDICTION_NEXT_TOKEN
from echo_cxr.model.quantize import ASKED_FOR

RUN_KINDS = ("fixed", "natural")
BENCH_IMAGE_SIDE = 224
MODES = ("ar", "multi_step", "one_step", "one_step_unfused")


@dataclass(frozen=True)
class DecodeBenchConfig:
    """What to measure; validated on construction."""

    block_length: int = 8
    threshold: float = 0.85
    batch_sizes: tuple[int, ...] = (1,)
    max_new_tokens: int = 128
    runs: tuple[str, ...] = RUN_KINDS
    modes: tuple[str, ...] = MODES
    repeats: int = 3
    warmup: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        unknown = [m for m in self.modes if m not in MODES]
        if unknown:
            raise EchoError(f"unknown mode(s) {', '.join(unknown)}; choose from {', '.join(MODES)}")
        bad_runs = [r for r in self.runs if r not in RUN_KINDS]
        if bad_runs:
            raise EchoError(f"unknown run kind(s) {', '.join(bad_runs)}; choose from {', '.join(RUN_KINDS)}")
        if not self.batch_sizes or min(self.batch_sizes) < 1:
            raise EchoError("batch sizes must be positive integers")
        if self.repeats < 1 or self.warmup < 0:
            raise EchoError("repeats must be >= 1 and warm-up >= 0")
        DecodeConfig(block_length=self.block_length, max_new_tokens=self.max_new_tokens, threshold=self.threshold)


def mode_settings(mode: str, bench: DecodeBenchConfig, ignore_eos: bool) -> tuple[str, DecodeConfig]:
    """(decoder name, decoding settings) of a benchmark mode."""
    common = dict(max_new_tokens=bench.max_new_tokens, ignore_eos=ignore_eos, seed=bench.seed)
    L = bench.block_length
    table = {
        "ar": ("ar", DecodeConfig(block_length=1, steps=1, **common)),
        "multi_step": ("blockwise", DecodeConfig(block_length=L, steps=L, strategy="low_confidence_dynamic",
                                                 threshold=bench.threshold, **common)),
        "one_step": ("blockwise", DecodeConfig(block_length=L, steps=1, fused=True, **common)),
        "one_step_unfused": ("blockwise", DecodeConfig(block_length=L, steps=1, fused=False, **common)),
    }
    return table[mode]


def bench_studies(images: list | None, batch: int, seed: int) -> list[Study]:
    """``batch`` single-view studies: the given images cycled, else deterministic noise images."""
    if images:
        return [Study([images[i % len(images)]]) for i in range(batch)]
    rng = np.random.default_rng(seed)
    side = BENCH_IMAGE_SIDE
    return [Study([(rng.random((side, side)) * 255).astype("uint8")]) for _ in range(batch)]


def _measure(bundle, studies, decoder, config) -> dict:
    timer = PhaseTimer(bundle.model.device)
    results = generate(bundle, studies, config, decoder=decoder, timer=timer)
    decode_seconds = max(r.stats.decode_seconds for r in results)
    new_tokens = sum(r.stats.new_tokens for r in results)
    forwards = sum(r.stats.forward_passes for r in results)
    committed = sum(r.stats.committed_tokens for r in results)
    phases = timer.as_dict()
    model_seconds = phases["forward"] + phases["kv_append"]
    return {
        "new_tokens": new_tokens, "forward_passes": forwards, "committed_tokens": committed,
        "decode_seconds": decode_seconds, "prefill_seconds": results[0].stats.prefill_seconds,
        "tokens_per_second": new_tokens / decode_seconds if decode_seconds > 0 else 0.0,
        "phases": phases,
        "overhead_fraction": max(0.0, 1.0 - model_seconds / decode_seconds) if decode_seconds > 0 else 0.0,
        "token_ids": [r.token_ids for r in results],
    }


def _median_row(samples: list[dict]) -> dict:
    med = lambda key: statistics.median(s[key] for s in samples)
    first = samples[0]
    return {
        "new_tokens": first["new_tokens"], "forward_passes": first["forward_passes"],
        "committed_tokens": first["committed_tokens"],
        "tokens_per_forward": first["committed_tokens"] / first["forward_passes"],
        "tokens_per_second": med("tokens_per_second"),
        "tokens_per_second_all": [s["tokens_per_second"] for s in samples],
        "decode_seconds": med("decode_seconds"), "prefill_seconds": med("prefill_seconds"),
        "phases": {p: statistics.median(s["phases"][p] for s in samples) for p in PHASES},
        "overhead_fraction": med("overhead_fraction"),
        "token_ids": first["token_ids"],
    }


def run_decode_bench(bundle, bench: DecodeBenchConfig, images: list | None = None, progress=None) -> dict:
    """Measure every (run kind, batch size, mode) in ``bundle.quantize``; returns the JSON-ready report."""
    ar_bundle = replace(bundle, prediction=PREDICTION_NEXT_TOKEN)
    rows = []
    for run in bench.runs:
        for batch in bench.batch_sizes:
            studies = bench_studies(images, batch, bench.seed)
            settings = {mode: (ar_bundle if mode == "ar" else bundle, *mode_settings(mode, bench, run == "fixed"))
                        for mode in bench.modes}
            for model, decoder, config in settings.values():
                for _ in range(bench.warmup):
                    _measure(model, studies, decoder, config)
            # repeats taken in turns across the modes, so that a slow spell of a shared machine
            # lands on every mode alike instead of on one mode's whole series
            samples = {mode: [] for mode in bench.modes}
            for _ in range(bench.repeats):
                for mode, (model, decoder, config) in settings.items():
                    samples[mode].append(_measure(model, studies, decoder, config))
            for mode, (model, decoder, config) in settings.items():
                row = {"run": run, "batch_size": batch, "mode": mode, "decoder": decoder,
                       "block_length": config.block_length, "steps": config.num_steps,
                       "fused": None if decoder == "ar" else config.use_fused}
                rows.append(row | {"quantize": bundle.quantize} | _median_row(samples[mode]))
                if progress:
                    progress(rows[-1])
    _add_speedups(rows)
    report = {"model": bundle.name, "dtype": str(bundle.dtype).removeprefix("torch."), "quantize": bundle.quantize,
              "quantize_reason": bundle.quantize_reason, "device": str(bundle.device),
              "machine": machine_description(bundle.device), "date": date.today().isoformat(),
              "config": asdict(bench), "results": rows}
    if bundle.device.type == "cpu":
        from echo_cxr.model.cpu_features import detect

        report["cpu"] = detect().summary()
    report["best"] = best_ratio(rows)
    return report


def _add_speedups(rows: list[dict]) -> None:
    """``speedup_vs_ar``: each row over the AR row of the same run, batch and format."""
    key = lambda r: (r["run"], r["batch_size"], r.get("quantize", "none"))  # noqa: E731
    baseline = {key(r): r["tokens_per_second"] for r in rows if r["mode"] == "ar"}
    for row in rows:
        base = baseline.get(key(row))
        row["speedup_vs_ar"] = row["tokens_per_second"] / base if base else None


def best_ratio(rows: list[dict]) -> list[dict]:
    """Per (run, batch): the fastest AR row and the fastest diffusion row over every format
    measured, and their ratio (each mode given its best format)."""
    best = []
    for run, batch in dict.fromkeys((r["run"], r["batch_size"]) for r in rows):
        group = [r for r in rows if (r["run"], r["batch_size"]) == (run, batch)]
        ar = [r for r in group if r["mode"] == "ar"]
        echo = [r for r in group if r["mode"] != "ar"]
        if not ar or not echo:
            continue
        top_ar = max(ar, key=lambda r: r["tokens_per_second"])
        top_echo = max(echo, key=lambda r: r["tokens_per_second"])
        best.append({"run": run, "batch_size": batch,
                     "ar": {k: top_ar[k] for k in ("mode", "quantize", "tokens_per_second")},
                     "echo": {k: top_echo[k] for k in ("mode", "quantize", "tokens_per_second")},
                     "ratio": top_echo["tokens_per_second"] / top_ar["tokens_per_second"]})
    return best


def merge_format_reports(reports: list[dict]) -> dict:
    """One report from runs of the same model and settings in different formats (rows keep theirs)."""
    if len(reports) == 1:
        return reports[0]
    merged = dict(reports[0])
    merged["quantize"] = ",".join(r["quantize"] for r in reports)
    merged["quantize_reason"] = "; ".join(f"{r['quantize']}: {r['quantize_reason']}" for r in reports
                                          if r["quantize_reason"] != ASKED_FOR)
    merged["results"] = [row for r in reports for row in r["results"]]
    merged["best"] = best_ratio(merged["results"])
    return merged


def add_agreement(report: dict, reference: dict) -> None:
    """``token_agreement`` of each row: the share of its token positions equal to the same row of
    ``reference`` (same run, batch and mode; positions past the shorter output count as different)."""
    rows = {}
    for r in reference["results"]:  # a multi-format reference: its float32 rows where it has them
        key = (r["run"], r["batch_size"], r["mode"])
        if key not in rows or r.get("quantize", "none") == "none":
            rows[key] = r
    for row in report["results"]:
        other = rows.get((row["run"], row["batch_size"], row["mode"]))
        row["token_agreement"] = None if other is None else token_agreement(row["token_ids"], other["token_ids"])
    report["reference"] = {k: reference.get(k) for k in ("model", "dtype", "quantize", "date")}


def token_agreement(ours: list[list[int]], theirs: list[list[int]]) -> float:
    same = total = 0
    for a, b in zip(ours, theirs, strict=True):
        same += sum(x == y for x, y in zip(a, b))
        total += max(len(a), len(b))
    return same / total if total else 1.0


def machine_description(device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)}, {platform.machine()}"
    from echo_cxr.model.cpu_features import detect

    return f"{detect().model} ({platform.machine()}), {torch.get_num_threads()} threads, torch {torch.__version__}"
