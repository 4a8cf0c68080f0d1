"""Why the fused block-8 step is cheap or not on this CPU: one Qwen2-0.5B-shaped linear layer at
1 and 16 tokens, in float32, bfloat16 (``--quantize bf16``) and dynamic int8 (``--quantize int8``).
Prints milliseconds per product and the 16-token / 1-token cost ratio (docs/benchmarks.md, part 1).

    .venv/bin/python bench/matmul.py [--in 896] [--out 4864] [--repeats 200]
"""

from __future__ import annotations

import argparse
import time
import warnings

import torch

from echo_cxr.model.bf16_linear import BFloat16Linear

TOKENS = (1, 16)


def per_call_ms(layer, tokens: int, features: int, repeats: int) -> float:
    x = torch.randn(1, tokens, features)
    with torch.inference_mode():
        for _ in range(repeats // 10 + 1):
            layer(x)
        start = time.perf_counter()
        for _ in range(repeats):
            layer(x)
    return (time.perf_counter() - start) / repeats * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--in", dest="inputs", type=int, default=896)
    parser.add_argument("--out", dest="outputs", type=int, default=4864)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    linear = torch.nn.Linear(args.inputs, args.outputs, bias=False)
    with warnings.catch_warnings():  # torch marks eager quantization as moving to torchao
        warnings.simplefilter("ignore")
        int8 = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(linear), {torch.nn.Linear},
                                                      dtype=torch.qint8)
    layers = {"float32": linear, "bf16": BFloat16Linear(linear), "int8": int8}
    print(f"{args.inputs} -> {args.outputs}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    for name, layer in layers.items():
        times = [per_call_ms(layer, n, args.inputs, args.repeats) for n in TOKENS]
        print(f"{name:8s} " + "  ".join(f"{n:2d} tokens {t:.3f} ms" for n, t in zip(TOKENS, times))
              + f"  ratio {times[1] / times[0]:.2f}")


if __name__ == "__main__":
    main()
