"""Where a decode's time goes, op by op: AR and fused one-step decoding of ``random:0.5b`` in one
CPU format (docs/benchmarks.md, section 0).

Each mode is profiled twice, with ``--tokens`` and with twice as many; the difference between the
two is the cost of ``--tokens`` decoded tokens without the prefill, printed per model forward and
per op kind (self CPU time, calls), after the wall-clock speed of an unprofiled run.

    .venv/bin/python bench/profile_ops.py [--quantize int8] [--tokens 64] [--rows 18] [--threads 2]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from dataclasses import replace

import torch
from torch.profiler import ProfilerActivity, profile

from echo_cxr.bench.decode import DecodeBenchConfig, bench_studies, mode_settings
from echo_cxr.decoding import generate
from echo_cxr.model import load
from echo_cxr.model.bundle import PREDICTION_NEXT_TOKEN

MICROSECONDS_PER_MS = 1e3


def op_times(model, studies, config, decoder) -> tuple[Counter, Counter, int]:
    """(self CPU us per op, calls per op, model forwards) of one profiled decode."""
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        result = generate(model, studies, config, decoder=decoder)[0]
    self_us, calls = Counter(), Counter()
    for event in prof.key_averages():
        self_us[event.key] += event.self_cpu_time_total
        calls[event.key] += event.count
    return self_us, calls, result.stats.forward_passes


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
    studies = bench_studies(None, 1, 0)
    for mode in ("ar", "one_step"):
        model = replace(bundle, prediction=PREDICTION_NEXT_TOKEN) if mode == "ar" else bundle
        runs = {}
        for tokens in (args.tokens, 2 * args.tokens):
            bench = DecodeBenchConfig(max_new_tokens=tokens, runs=("fixed",), modes=(mode,))
            decoder, config = mode_settings(mode, bench, ignore_eos=True)
            generate(model, studies, config, decoder=decoder)  # warm-up
            start = time.perf_counter()
            generate(model, studies, config, decoder=decoder)
            seconds = time.perf_counter() - start
            print(f"== {bundle.quantize} {mode}: {tokens} tokens in {seconds:.2f} s "
                  f"({tokens / seconds:.1f} tok/s, prefill included)")
            runs[tokens] = op_times(model, studies, config, decoder)
        (short_us, short_calls, short_fwd), (long_us, long_calls, long_fwd) = runs[args.tokens], runs[2 * args.tokens]
        forwards = long_fwd - short_fwd
        cost = {op: (long_us[op] - short_us[op]) / forwards for op in long_us}
        total = sum(cost.values())
        print(f"   per forward without the prefill ({forwards} forwards): {total / MICROSECONDS_PER_MS:.2f} ms of "
              f"op self time")
        for op, us in sorted(cost.items(), key=lambda kv: -kv[1])[: args.rows]:
            per_forward_calls = (long_calls[op] - short_calls[op]) / forwards
            print(f"   {op:55s} {us / MICROSECONDS_PER_MS:7.2f} ms {us / total:6.1%}  {per_forward_calls:7.1f} calls")


if __name__ == "__main__":
    main()
