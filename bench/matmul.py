"""Why the fused block-8 step is cheap or not on this CPU: one Qwen2-0.5B-shaped linear layer at
1, 8 and 16 tokens, in float32, bfloat16 (``--quantize bf16``), dynamic int8 (``--quantize int8``,
fbgemm, per-channel weight scales) and, for comparison, oneDNN's int8 product with the same dynamic per-tensor activation
quantisation (``int8-onednn``, not used by echo-cxr: slower here, docs/benchmarks.md section 0).
Prints milliseconds per product and the 16-token / 1-token cost ratio (docs/benchmarks.md).

    .venv/bin/python bench/matmul.py [--in 896] [--out 4864] [--repeats 200]
    .venv/bin/python bench/matmul.py --attention   # the decode's masked attention instead (below)

``--attention``: one 0.5B attention call (14 query heads, 2 KV heads, head size 64) over a
``--keys``-long cache with a boolean mask, at 1, 8 and 16 queries: SDPA on KV heads repeated to the
query heads (what transformers does on a CPU with a mask) vs SDPA's own grouped-query path.
"""

from __future__ import annotations

import argparse
import copy
import time

import torch

from echo_cxr.model.bf16_linear import BFloat16Linear
from echo_cxr.model.quantize import int8_linear

TOKENS = (1, 8, 16)
INT8_MAX, UINT8_MAX = 127, 255


class OneDNNInt8Linear(torch.nn.Module):
    """int8 weights (symmetric, per output channel) in oneDNN's packed layout; activations quantised
    per call to uint8 with one scale and zero point, as torch's dynamic int8 linear does."""

    def __init__(self, linear: torch.nn.Linear):
        super().__init__()
        weight = linear.weight.detach()
        self.weight_scale = (weight.abs().amax(1).clamp_min(torch.finfo(torch.float32).tiny) / INT8_MAX).float()
        quantized = torch.round(weight / self.weight_scale[:, None]).clamp(-INT8_MAX, INT8_MAX).to(torch.int8)
        self.packed = torch.ops.onednn.qlinear_prepack(quantized, None)
        self.weight_zero = torch.zeros(weight.shape[0], dtype=torch.long)

    def forward(self, x):
        low, high = torch.aminmax(x)
        scale = ((high.clamp(min=0) - low.clamp(max=0)) / UINT8_MAX).clamp_min(torch.finfo(torch.float32).tiny)
        zero = torch.round(-low.clamp(max=0) / scale).to(torch.int32)
        qx = (torch.round(x / scale) + zero).clamp(0, UINT8_MAX).to(torch.uint8)
        return torch.ops.onednn.qlinear_pointwise.tensor(qx, scale, zero, self.packed, self.weight_scale,
                                                         self.weight_zero, None, 1.0, 0, torch.float32, "none", [], "")


def per_call_ms(layer, tokens: int, features: int, repeats: int) -> float:
    x = torch.randn(1, tokens, features)
    with torch.inference_mode():
        for _ in range(repeats // 10 + 1):
            layer(x)
        start = time.perf_counter()
        for _ in range(repeats):
            layer(x)
    return (time.perf_counter() - start) / repeats * 1e3


def attention_ms(keys: int, repeats: int) -> None:
    heads, kv_heads, size = 14, 2, 64  # Qwen2-0.5B
    sdpa = torch.nn.functional.scaled_dot_product_attention
    for queries in TOKENS:
        q, k, v = torch.randn(1, heads, queries, size), torch.randn(1, kv_heads, keys, size), torch.randn(1, kv_heads, keys, size)
        mask = torch.ones(1, 1, queries, keys, dtype=torch.bool)
        mask[..., keys - queries:] = torch.rand(queries, queries) > 0.5
        mask[..., 0] = True
        group = heads // kv_heads
        repeated = lambda: sdpa(q, k.repeat_interleave(group, 1), v.repeat_interleave(group, 1), attn_mask=mask)  # noqa: E731
        grouped = lambda: sdpa(q, k, v, attn_mask=mask, enable_gqa=True)  # noqa: E731
        difference = (repeated() - grouped()).abs().max().item()
        times = []
        for call in (repeated, grouped):
            with torch.inference_mode():
                for _ in range(repeats // 10 + 1):
                    call()
                start = time.perf_counter()
                for _ in range(repeats):
                    call()
            times.append((time.perf_counter() - start) / repeats * 1e3)
        print(f"{queries:2d} queries x {keys} keys: repeated KV {times[0]:.3f} ms  enable_gqa {times[1]:.3f} ms  "
              f"(max difference {difference:.1e})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--in", dest="inputs", type=int, default=896)
    parser.add_argument("--out", dest="outputs", type=int, default=4864)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--attention", action="store_true", help="time the masked attention call instead")
    parser.add_argument("--keys", type=int, default=400)
    args = parser.parse_args()
    if args.attention:
        attention_ms(args.keys, args.repeats)
        return
    linear = torch.nn.Linear(args.inputs, args.outputs, bias=False)
    layers = {"float32": linear, "bf16": BFloat16Linear(linear), "int8": int8_linear(copy.deepcopy(linear))}
    if "onednn" in torch.backends.quantized.supported_engines:
        layers["int8-onednn"] = OneDNNInt8Linear(linear)
    print(f"{args.inputs} -> {args.outputs}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    for name, layer in layers.items():
        times = [per_call_ms(layer, n, args.inputs, args.repeats) for n in TOKENS]
        print(f"{name:11s} " + "  ".join(f"{n:2d} tokens {t:.3f} ms" for n, t in zip(TOKENS, times))
              + f"  ratio 16/1 {times[-1] / times[0]:.2f}")


if __name__ == "__main__":
    main()
