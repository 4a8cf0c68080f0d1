"""The int8 linear layers of a whole Qwen2-0.5B-shaped forward, each weight read once from memory
as in decoding (``bench/matmul.py`` times one cache-resident layer instead): the 24 layers'
products as transformers calls them (q, k, v, o, gate, up, down: 7 per layer) and with the sibling
projections fused as ``--quantize int8`` runs them (qkv, o, gate+up, down: 4 per layer,
model/fused_linear.py), plus the LM head alone, at 1, 8 and 16 tokens. The variants take turns for
``--rounds`` rounds and the median is printed, so that a slow spell of a shared machine does not
land on one variant (docs/benchmarks.md, section 0).

    .venv/bin/python bench/stream_linear.py [--rounds 6] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from echo_cxr.model.quantize import int8_linear

HIDDEN, INTERMEDIATE, KV, LAYERS, VOCAB = 896, 4864, 128, 24, 151936  # Qwen2-0.5B
SHAPES = {
    "unfused": [(HIDDEN, HIDDEN), (HIDDEN, KV), (HIDDEN, KV), (HIDDEN, HIDDEN), (HIDDEN, INTERMEDIATE),
                (HIDDEN, INTERMEDIATE), (INTERMEDIATE, HIDDEN)],
    "fused": [(HIDDEN, HIDDEN + 2 * KV), (HIDDEN, HIDDEN), (HIDDEN, 2 * INTERMEDIATE), (INTERMEDIATE, HIDDEN)],
    "head": None,
}
TOKENS = (1, 8, 16)


def layers(kind: str) -> list:
    if SHAPES[kind] is None:
        return [(HIDDEN, int8_linear(torch.nn.Linear(HIDDEN, VOCAB, bias=False)))]
    return [(i, int8_linear(torch.nn.Linear(i, o))) for _ in range(LAYERS) for i, o in SHAPES[kind]]


def one_pass_ms(products: list, tokens: int, passes: int = 3) -> float:
    inputs = {size: torch.randn(tokens, size) for size in (HIDDEN, INTERMEDIATE)}
    with torch.inference_mode():
        for size, layer in products:
            layer(inputs[size])
        start = time.perf_counter()
        for _ in range(passes):
            for size, layer in products:
                layer(inputs[size])
    return (time.perf_counter() - start) / passes * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    variants = {kind: layers(kind) for kind in SHAPES}
    times = {(kind, n): [] for kind in variants for n in TOKENS}
    for _ in range(args.rounds):
        for n in TOKENS:
            for kind, products in variants.items():
                times[(kind, n)].append(one_pass_ms(products, n))
    print(f"int8 (per-channel, fbgemm), torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"median of {args.rounds} rounds, ms per forward's products")
    for kind in variants:
        medians = [statistics.median(times[(kind, n)]) for n in TOKENS]
        print(f"{kind:8s} " + "  ".join(f"{n:2d} tokens {m:6.2f} ms" for n, m in zip(TOKENS, medians))
              + f"  16/1 {medians[-1] / medians[0]:.2f}")


if __name__ == "__main__":
    main()
