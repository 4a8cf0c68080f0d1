"""Reduced-precision linear layers for CPU decoding, in the language model and its head only (the
vision tower, embeddings, norms, attention and the residual stream stay as loaded):

- ``int8``: dynamic int8 linear layers (int8 weights with a scale per output channel, activations
  quantised per call, fbgemm; on a CPU with usable AMX, products of a block's rows run on oneDNN's
  AMX-INT8 kernel instead, model/hybrid_int8.py);
- ``bf16``: bfloat16 weights and bfloat16 products (oneDNN; AMX/AVX-512-BF16 where the CPU has it),
  float32 in and out, bias added in float32;
- ``auto`` (the CPU default of every decoding command): the format this CPU runs fastest, chosen
  from its capabilities by ``choose_quantization`` (AMX -> bf16, else int8 where the int8 kernels
  exist, else float32); said on stderr and recorded as ``bundle.quantize``. Off the CPU, and for
  non-float32 models, ``auto`` is ``none``.

In int8 and bf16 the projections of one input (q/k/v, gate/up) become one product
(model/fused_linear.py). On a CPU the small-M matrix products of decoding are bound by weight
traffic and, for float32, by compute at 8-16 tokens: both modes move fewer bytes, and their kernels
make a block of 8-16 tokens cost far less than 8-16 single tokens (1.4-2x one with int8 here,
docs/benchmarks.md, section 0). Both change the numbers:
the benchmark reports token agreement with float32 and docs/benchmarks.md the quality on trained
weights.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from echo_cxr.errors import EchoError

AUTO = "auto"
FORMATS = ("none", "int8", "bf16")
QUANTIZATIONS = (AUTO, *FORMATS)
QUANTIZED_MODULES = ("model.language_model", "lm_head")
INT8_ENGINES = ("x86", "fbgemm", "qnnpack")  # torch's dynamic int8 kernels, in order of preference
ASKED_FOR = "asked for"  # the reason of an explicit format


@dataclass(frozen=True)
class QuantizeChoice:
    """The format ``auto`` resolved to, and why (one line for stderr and result files)."""

    mode: str
    reason: str


def check_quantization(mode: str) -> None:
    if mode not in QUANTIZATIONS:
        raise EchoError(f"unknown quantization {mode!r}; choose one of {', '.join(QUANTIZATIONS)}")


def int8_engine(features, engines) -> str | None:
    """The dynamic int8 engine usable on this CPU: fbgemm / x86 need AVX2, qnnpack is the ARM one."""
    for engine in INT8_ENGINES:
        if engine not in engines:
            continue
        if engine == "qnnpack" and features.machine.lower() in ("aarch64", "arm64"):
            return engine
        if engine != "qnnpack" and features.has_avx2:
            return engine
    return None


def this_cpu(features=None, engines=None):
    """(``features``, ``engines``), each defaulting to this machine's: its CPU as
    model/cpu_features.py sees it, and torch's quantized engines."""
    if features is None:
        from echo_cxr.model.cpu_features import detect

        features = detect()
    if engines is None:
        import torch

        engines = tuple(torch.backends.quantized.supported_engines)
    return features, engines


def choose_quantization(requested: str, *, device_type: str = "cpu", float32: bool = True,
                        features=None, engines=None) -> QuantizeChoice:
    """Resolve ``requested`` (``auto`` or a format) for this device and CPU. ``features``
    (model/cpu_features.py) and ``engines`` (torch's quantized engines) default to this machine's."""
    check_quantization(requested)
    if requested != AUTO:
        return QuantizeChoice(requested, ASKED_FOR)
    if device_type != "cpu":
        return QuantizeChoice("none", f"{device_type} device: the model's own dtype")
    if not float32:
        return QuantizeChoice("none", "the model is not float32")
    features, engines = this_cpu(features, engines)
    limits = f" ({features.limits()})" if features.limits() else ""
    if features.has_amx:
        return QuantizeChoice("bf16", f"{features.model}: AMX bf16 tiles{limits}")
    engine = int8_engine(features, engines)
    if engine is not None:
        why = "AVX-512-BF16 without AMX, int8 measured faster" if features.has_avx512_bf16 else "no AMX"
        return QuantizeChoice("int8", f"{features.model}: {why}, int8 kernels ({engine}){limits}")
    return QuantizeChoice("none", f"{features.model}: no AMX and no int8 kernels{limits}")


def quantize_model(bundle, mode: str, announce: bool = True):
    """Quantise ``bundle.model`` in place to ``mode`` (``auto``: this CPU's choice, said on stderr
    when ``announce``; ``none`` leaves it alone); records the format as ``bundle.quantize``."""
    import torch

    choice = choose_quantization(mode, device_type=bundle.model.device.type, float32=bundle.dtype == torch.float32)
    if mode == AUTO and announce:
        print(f"note: quantize auto -> {choice.mode}: {choice.reason}", file=sys.stderr)
    bundle.quantize, bundle.quantize_reason = choice.mode, choice.reason
    mode = choice.mode
    if mode == "none":
        return bundle
    if bundle.model.device.type != "cpu" or bundle.dtype != torch.float32:
        raise EchoError(f"--quantize {mode} is a CPU path for float32 models (use --dtype bfloat16 on a GPU)")
    factory = bf16_linear if mode == "bf16" else int8_factory()
    from echo_cxr.model.fused_linear import fuse_projections

    for prefix in QUANTIZED_MODULES:
        fuse_projections(bundle.model.get_submodule(prefix), factory)
    swap_linear_layers(bundle.model, factory)
    return bundle


def bf16_linear(linear):
    from echo_cxr.model.bf16_linear import BFloat16Linear

    return BFloat16Linear(linear)


def int8_linear(linear):
    """torch's dynamic int8 linear (fbgemm) with one weight scale per output channel: a fused
    projection (model/fused_linear.py) then gives each projection's columns exactly as alone."""
    from echo_cxr.model.hybrid_int8 import plain_int8_linear

    return plain_int8_linear(linear)


def amx_int8_linear(linear):
    """``int8_linear`` whose block-sized products run on oneDNN's AMX-INT8 kernel (model/hybrid_int8.py)."""
    from echo_cxr.model.hybrid_int8 import HybridInt8Linear

    return HybridInt8Linear.from_linear(linear)


def int8_factory(features=None, engines=None):
    """The int8 layer for this CPU: ``amx_int8_linear`` where AMX is usable and torch has oneDNN's
    int8 engine, else ``int8_linear``. ``features`` / ``engines`` default to this machine's."""
    from echo_cxr.model.hybrid_int8 import onednn_int8_available

    features, engines = this_cpu(features, engines)
    return amx_int8_linear if features.has_amx and onednn_int8_available(engines) else int8_linear


def swap_linear_layers(model, replacement) -> None:
    """Replace every ``nn.Linear`` under QUANTIZED_MODULES by ``replacement(linear)``."""
    import torch

    within = lambda name: any(name == p or name.startswith(p + ".") for p in QUANTIZED_MODULES)  # noqa: E731
    for name, module in list(model.named_modules()):
        if isinstance(module, torch.nn.Linear) and within(name):
            parent, _, child = name.rpartition(".")
            setattr(model.get_submodule(parent), child, replacement(module))
