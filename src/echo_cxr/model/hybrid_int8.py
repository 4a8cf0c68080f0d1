"""int8 linear layers for CPUs with AMX: one-token products on fbgemm, block products on oneDNN.

torch's dynamic int8 linear (fbgemm) is the fastest kernel for the one-token products of AR
decoding on every x86 CPU measured here, but its cost grows with the rows of a product (2.06x from 1
to 16 tokens over a 0.5B forward), while oneDNN's int8 product runs on the AMX-INT8 tiles where
the CPU has them and costs about the same at 1, 8 and 16 rows, at a higher fixed cost per call
(docs/benchmarks.md, section 0). ``HybridInt8Linear`` keeps the same int8 weights (one scale per
output channel) packed for both and sends products of ``MULTI_ROW_MIN`` rows or more (a block of
8-16 tokens, a prefill) to oneDNN. Both kernels quantise the activations per call and give the same
numbers up to float rounding (tests/model/test_hybrid_int8.py). The cost: the layer's int8 weights
are held twice.
"""

from __future__ import annotations

import contextlib
import warnings

import torch
from torch.ao.nn.quantized.dynamic import Linear as DynamicInt8Linear

MULTI_ROW_MIN = 8  # rows from which oneDNN's AMX product beats fbgemm (0.5B layers, 2 threads)
ONEDNN_ENGINE = "onednn"


def plain_int8_linear(linear: torch.nn.Linear) -> DynamicInt8Linear:
    """torch's dynamic int8 linear, weights packed for the current quantized engine, one scale per output channel."""
    from torch.ao.quantization import per_channel_dynamic_qconfig

    linear.qconfig = per_channel_dynamic_qconfig
    with warnings.catch_warnings():  # torch marks eager quantization as moving to torchao
        warnings.simplefilter("ignore")
        return DynamicInt8Linear.from_float(linear)


@contextlib.contextmanager
def quantized_engine(name: str):
    previous = torch.backends.quantized.engine
    torch.backends.quantized.engine = name
    try:
        yield
    finally:
        torch.backends.quantized.engine = previous


class HybridInt8Linear(DynamicInt8Linear):
    """A dynamic int8 linear (its own packed weights: the current engine's, fbgemm / x86) that hands
    products of ``MULTI_ROW_MIN`` rows or more to ``multi_row``, the same weights packed for oneDNN."""

    @classmethod
    def from_linear(cls, linear: torch.nn.Linear) -> HybridInt8Linear:
        single = plain_int8_linear(linear)
        hybrid = cls(linear.in_features, linear.out_features, bias_=linear.bias is not None, dtype=torch.qint8)
        hybrid._packed_params = single._packed_params
        with quantized_engine(ONEDNN_ENGINE):
            hybrid.multi_row = plain_int8_linear(linear)
        return hybrid

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.numel() // x.shape[-1] >= MULTI_ROW_MIN:
            return self.multi_row(x)
        return super().forward(x)

    def _get_name(self):
        return "HybridInt8Linear"


def onednn_int8_available(engines) -> bool:
    return ONEDNN_ENGINE in engines
