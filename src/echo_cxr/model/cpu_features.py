"""What this CPU can do for decoding: its model name, its instruction-set flags, and the flags that
the process may actually use once the kernel-limiting environment variables are applied.

``ONEDNN_MAX_CPU_ISA`` (oneDNN, behind bf16 products) and ``ATEN_CPU_CAPABILITY`` (torch's own
vector kernels) let a user run an AMX machine as if it were AVX2-only; ``usable`` honours both, so
``--quantize auto`` picks what the limited process will really run fast (model/quantize.py).
``FBGEMM_ENABLE_INSTRUCTIONS`` (the int8 kernels) and ``MKL_ENABLE_INSTRUCTIONS`` (float32 BLAS)
complete an AVX2-only imitation (bench/cpu.sh ``AVX2=1``); they do not change the choice, since
int8 and float32 run on AVX2 too, and are recorded with the others.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
AMX_FLAGS = frozenset({"amx_bf16", "amx_tile", "amx_int8", "amx_fp16"})
AVX512_BF16_FLAGS = frozenset({"avx512_bf16"})
# oneDNN ISA names (ONEDNN_MAX_CPU_ISA / DNNL_MAX_CPU_ISA) and what each allows of the flags above
ONEDNN_BF16_ISAS = frozenset({"AVX512_CORE_BF16", "AVX512_CORE_FP16", "AVX512_CORE_AMX",
                              "AVX512_CORE_AMX_FP16", "AVX10_1_512", "AVX10_1_512_AMX",
                              "AVX10_1_512_AMX_FP16", "AVX10_2_512", "AVX10_2_512_AMX_2", "ALL", "DEFAULT"})
ONEDNN_AMX_ISAS = frozenset({"AVX512_CORE_AMX", "AVX512_CORE_AMX_FP16", "AVX10_1_512_AMX",
                             "AVX10_1_512_AMX_FP16", "AVX10_2_512_AMX_2", "ALL", "DEFAULT"})
ONEDNN_ISA_VARIABLES = ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA")
ATEN_CAPABILITY_VARIABLE = "ATEN_CPU_CAPABILITY"
RECORDED_VARIABLES = ("FBGEMM_ENABLE_INSTRUCTIONS", "MKL_ENABLE_INSTRUCTIONS")


@dataclass(frozen=True)
class CpuFeatures:
    """A CPU as the decoder sees it. ``flags``: what the hardware has (``/proc/cpuinfo``);
    ``onednn_isa`` / ``aten_capability``: the limits set in the environment (None: none);
    ``other_limits``: the recorded-only ones (RECORDED_VARIABLES) that are set."""

    model: str
    machine: str
    flags: frozenset[str]
    onednn_isa: str | None = None
    aten_capability: str | None = None
    other_limits: tuple[tuple[str, str], ...] = ()

    def usable(self, flag: str) -> bool:
        """The hardware has ``flag`` and neither environment limit switches it off."""
        if flag not in self.flags:
            return False
        aten = (self.aten_capability or "").lower()
        if aten in ("default", "avx2") and (flag.startswith("avx512") or flag in AMX_FLAGS):
            return False
        if aten == "default" and flag == "avx2":
            return False
        isa = (self.onednn_isa or "ALL").upper()
        if flag in AMX_FLAGS:
            return isa in ONEDNN_AMX_ISAS
        if flag in AVX512_BF16_FLAGS:
            return isa in ONEDNN_BF16_ISAS
        return True

    @property
    def has_amx(self) -> bool:
        return self.usable("amx_bf16")

    @property
    def has_avx512_bf16(self) -> bool:
        return self.usable("avx512_bf16")

    @property
    def has_avx2(self) -> bool:
        return self.usable("avx2")

    def limits(self) -> str:
        """The environment limits in words ('' when none is set)."""
        parts = [f"ONEDNN_MAX_CPU_ISA={self.onednn_isa}" if self.onednn_isa else "",
                 f"ATEN_CPU_CAPABILITY={self.aten_capability}" if self.aten_capability else "",
                 *(f"{name}={value}" for name, value in self.other_limits)]
        return ", ".join(p for p in parts if p)

    def summary(self) -> dict:
        """JSON-ready description: model, the decoding-relevant flags present, and the limits."""
        relevant = sorted(f for f in self.flags if f in ("avx", "avx2", "fma", "f16c") or f.startswith(("avx512", "amx")))
        return {"model": self.model, "machine": self.machine, "flags": relevant, "limits": self.limits(),
                "onednn_max_cpu_isa": self.onednn_isa, "aten_cpu_capability": self.aten_capability,
                "usable": {"amx_bf16": self.has_amx, "avx512_bf16": self.has_avx512_bf16, "avx2": self.has_avx2}}


def parse_cpuinfo(text: str) -> tuple[str, frozenset[str]]:
    """(model name, flags) of the first processor in a ``/proc/cpuinfo`` text."""
    model, flags = "", frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "model name" and not model:
            model = value.strip()
        elif key in ("flags", "features") and not flags:
            flags = frozenset(value.split())
        if model and flags:
            break
    return model, flags


def environment_limits(environ=None) -> tuple[str | None, str | None]:
    environ = os.environ if environ is None else environ
    onednn = next((environ[v] for v in ONEDNN_ISA_VARIABLES if environ.get(v)), None)
    return onednn, environ.get(ATEN_CAPABILITY_VARIABLE) or None


@lru_cache(maxsize=1)
def detect() -> CpuFeatures:
    """This machine's CPU, with the environment's limits (read once per process)."""
    text = CPUINFO.read_text(errors="replace") if CPUINFO.exists() else ""
    model, flags = parse_cpuinfo(text)
    onednn, aten = environment_limits()
    others = tuple((name, os.environ[name]) for name in RECORDED_VARIABLES if os.environ.get(name))
    return CpuFeatures(model=model or platform.processor() or "unknown CPU", machine=platform.machine(),
                       flags=flags, onednn_isa=onednn, aten_capability=aten, other_limits=others)
