"""Weight-only-style int8 for CPU decoding: dynamic int8 linear layers (int8 weights, activations
quantised per batch) in the language model and its head; the vision tower stays as loaded.

On a CPU the small-M matrix products of decoding are bound by weight traffic; int8 weights move a
quarter of the bytes, and fbgemm's int8 kernels keep a block of 8-16 tokens nearly as cheap as one
(docs/benchmarks.md). It changes the numbers: the benchmark reports token agreement with float32.
"""

from __future__ import annotations

import warnings

from echo_cxr.errors import EchoError

QUANTIZATIONS = ("none", "int8")
QUANTIZED_MODULES = ("model.language_model", "lm_head")


def check_quantization(mode: str) -> None:
    if mode not in QUANTIZATIONS:
        raise EchoError(f"unknown quantization {mode!r}; choose one of {', '.join(QUANTIZATIONS)}")


def quantize_model(bundle, mode: str):
    """Quantise ``bundle.model`` in place (``none`` leaves it alone); returns the bundle."""
    check_quantization(mode)
    if mode == "none":
        return bundle
    import torch

    if bundle.model.device.type != "cpu" or bundle.dtype != torch.float32:
        raise EchoError("--quantize int8 is a CPU path for float32 models (use --dtype bfloat16 on a GPU)")
    from torch.ao.nn.quantized.dynamic import Linear as DynamicInt8Linear
    from torch.ao.quantization import default_dynamic_qconfig, quantize_dynamic

    with warnings.catch_warnings():  # torch marks eager quantization as moving to torchao
        warnings.simplefilter("ignore")
        quantize_dynamic(bundle.model, {name: default_dynamic_qconfig for name in QUANTIZED_MODULES},
                         dtype=torch.qint8, mapping={torch.nn.Linear: DynamicInt8Linear}, inplace=True)
    return bundle
