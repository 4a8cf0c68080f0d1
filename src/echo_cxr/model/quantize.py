"""Reduced-precision linear layers for CPU decoding, in the language model and its head only (the
vision tower, embeddings, norms, attention and the residual stream stay as loaded):

- ``int8``: dynamic int8 linear layers (int8 weights, activations quantised per batch, fbgemm);
- ``bf16``: bfloat16 weights and bfloat16 products (oneDNN; AMX/AVX-512-BF16 where the CPU has it),
  float32 in and out, bias added in float32.

On a CPU the small-M matrix products of decoding are bound by weight traffic and, for float32, by
compute at 8-16 tokens: both modes move fewer bytes, and their kernels keep a block of 8-16 tokens
nearly as cheap as one (docs/benchmarks.md). Both change the numbers: the benchmark reports token
agreement with float32 and docs/benchmarks.md the quality on trained weights.
"""

from __future__ import annotations

import warnings

from echo_cxr.errors import EchoError

QUANTIZATIONS = ("none", "int8", "bf16")
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
        raise EchoError(f"--quantize {mode} is a CPU path for float32 models (use --dtype bfloat16 on a GPU)")
    if mode == "bf16":
        from echo_cxr.model.bf16_linear import BFloat16Linear

        _swap_linear_layers(bundle.model, BFloat16Linear)
        return bundle
    from torch.ao.nn.quantized.dynamic import Linear as DynamicInt8Linear
    from torch.ao.quantization import default_dynamic_qconfig, quantize_dynamic

    with warnings.catch_warnings():  # torch marks eager quantization as moving to torchao
        warnings.simplefilter("ignore")
        quantize_dynamic(bundle.model, {name: default_dynamic_qconfig for name in QUANTIZED_MODULES},
                         dtype=torch.qint8, mapping={torch.nn.Linear: DynamicInt8Linear}, inplace=True)
    return bundle


def _swap_linear_layers(model, replacement) -> None:
    """Replace every ``nn.Linear`` under QUANTIZED_MODULES by ``replacement(linear)``."""
    import torch

    within = lambda name: any(name == p or name.startswith(p + ".") for p in QUANTIZED_MODULES)  # noqa: E731
    for name, module in list(model.named_modules()):
        if isinstance(module, torch.nn.Linear) and within(name):
            parent, _, child = name.rpartition(".")
            setattr(model.get_submodule(parent), child, replacement(module))
