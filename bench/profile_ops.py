"""Where a decode's time goes, op by op: torch-profiler tables of AR and fused one-step decoding of
``random:0.5b`` in one CPU format (docs/benchmarks.md, section 0). Prints the top ops by self time.

    .venv/bin/python bench/profile_ops.py [--quantize int8] [--tokens 64] [--rows 18]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import torch
from torch.profiler import ProfilerActivity, profile

from echo_cxr.bench.decode import DecodeBenchConfig, bench_studies, mode_settings
from echo_cxr.decoding import generate
from echo_cxr.model import load
from echo_cxr.model.bundle import PREDICTION_NEXT_TOKEN


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quantize", default="int8")
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--rows", type=int, default=18)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    bundle = load("random:0.5b", quantize=args.quantize)
    bench = DecodeBenchConfig(max_new_tokens=args.tokens, runs=("fixed",), modes=("ar", "one_step"))
    studies = bench_studies(None, 1, 0)
    for mode in bench.modes:
        decoder, config = mode_settings(mode, bench, ignore_eos=True)
        model = replace(bundle, prediction=PREDICTION_NEXT_TOKEN) if mode == "ar" else bundle
        generate(model, studies, config, decoder=decoder)  # warm-up
        start = time.perf_counter()
        generate(model, studies, config, decoder=decoder)
        seconds = time.perf_counter() - start
        print(f"== {bundle.quantize} {mode}: {args.tokens} tokens in {seconds:.2f} s "
              f"({args.tokens / seconds:.1f} tok/s, prefill included)")
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            generate(model, studies, config, decoder=decoder)
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.rows))


if __name__ == "__main__":
    main()
