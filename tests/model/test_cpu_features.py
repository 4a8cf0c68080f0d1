"""``--quantize auto``: which CPU format is chosen from which capabilities (faked CPUs, no timing)."""

from __future__ import annotations

import pytest

from echo_cxr.model.cpu_features import CpuFeatures, environment_limits, parse_cpuinfo
from echo_cxr.model.quantize import choose_quantization

X86_ENGINES = ("x86", "fbgemm", "onednn", "none")
AVX2 = "fpu sse sse2 avx avx2 fma f16c"
ZEN4 = AVX2 + " avx512f avx512bw avx512vl avx512_bf16 avx512_vnni"
SAPPHIRE_RAPIDS = ZEN4 + " amx_bf16 amx_tile amx_int8"
CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8481C
flags\t\t: {flags}

processor\t: 1
model name\t: ignored
flags\t\t: sse
"""


def cpu(flags: str, machine="x86_64", onednn=None, aten=None) -> CpuFeatures:
    return CpuFeatures(model="test CPU", machine=machine, flags=frozenset(flags.split()), onednn_isa=onednn,
                       aten_capability=aten)


def pick(features, engines=X86_ENGINES, **kwargs) -> str:
    return choose_quantization("auto", features=features, engines=engines, **kwargs).mode


def test_cpuinfo_parsing_reads_the_first_processor():
    model, flags = parse_cpuinfo(CPUINFO.format(flags=SAPPHIRE_RAPIDS))
    assert model == "Intel(R) Xeon(R) Platinum 8481C"
    assert {"amx_bf16", "avx2", "avx512_bf16"} <= flags and "sse" in flags
    assert parse_cpuinfo("") == ("", frozenset())


@pytest.mark.parametrize("flags, expected", [
    (SAPPHIRE_RAPIDS, "bf16"),   # AMX: bf16 tiles
    (ZEN4, "int8"),              # AVX-512-BF16 without AMX: int8 measured faster (docs/benchmarks.md)
    (AVX2, "int8"),              # AVX2-only: fbgemm int8
    ("fpu sse sse2 avx", "none"),  # no AVX2: no fast int8 kernels, strict float32
])
def test_auto_by_capability(flags, expected):
    assert pick(cpu(flags)) == expected


def test_environment_limits_turn_an_amx_cpu_into_an_avx2_one():
    assert pick(cpu(SAPPHIRE_RAPIDS, onednn="AVX2")) == "int8"
    assert pick(cpu(SAPPHIRE_RAPIDS, aten="avx2")) == "int8"
    assert pick(cpu(SAPPHIRE_RAPIDS, onednn="avx512_core_amx")) == "bf16"  # ISA names are case-blind
    assert pick(cpu(SAPPHIRE_RAPIDS, aten="default")) == "none"
    limited = cpu(SAPPHIRE_RAPIDS, onednn="AVX512_CORE_BF16")
    assert not limited.has_amx and limited.has_avx512_bf16 and pick(limited) == "int8"
    assert "ONEDNN_MAX_CPU_ISA=AVX2" in choose_quantization(
        "auto", features=cpu(SAPPHIRE_RAPIDS, onednn="AVX2"), engines=X86_ENGINES).reason
    assert environment_limits({"DNNL_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}) == ("AVX2", "avx2")
    assert environment_limits({}) == (None, None)


def test_int8_needs_its_kernels():
    assert pick(cpu(AVX2), engines=("none",)) == "none"
    assert pick(cpu("asimd fp", machine="aarch64"), engines=("qnnpack", "none")) == "int8"
    assert pick(cpu("asimd fp", machine="aarch64"), engines=("none",)) == "none"


def test_auto_leaves_gpus_and_reduced_precision_models_alone():
    assert pick(cpu(SAPPHIRE_RAPIDS), device_type="cuda") == "none"
    assert pick(cpu(SAPPHIRE_RAPIDS), float32=False) == "none"


def test_an_explicit_format_is_kept():
    for mode in ("none", "int8", "bf16"):
        choice = choose_quantization(mode, features=cpu(AVX2), engines=X86_ENGINES)
        assert choice.mode == mode and choice.reason == "asked for"
