"""int8 on AMX CPUs: block-sized products on oneDNN, one-token products on fbgemm, the same numbers."""

from __future__ import annotations

import pytest
import torch

from echo_cxr.model.cpu_features import CpuFeatures
from echo_cxr.model.hybrid_int8 import MULTI_ROW_MIN, HybridInt8Linear, plain_int8_linear
from echo_cxr.model.quantize import amx_int8_linear, int8_factory, int8_linear

pytestmark = pytest.mark.skipif("onednn" not in torch.backends.quantized.supported_engines,
                                reason="torch without oneDNN's quantized engine")


def features(*flags: str) -> CpuFeatures:
    return CpuFeatures(model="test CPU", flags=frozenset(flags), machine="x86_64")


def test_amx_cpus_get_the_hybrid_layer_and_others_the_plain_one():
    engines = ("onednn", "x86", "fbgemm")
    assert int8_factory(features("avx2", "avx512f", "amx_bf16", "amx_int8", "amx_tile"), engines) is amx_int8_linear
    assert int8_factory(features("avx2", "avx512f", "avx512_bf16"), engines) is int8_linear
    assert int8_factory(features("avx2", "amx_bf16"), ("x86", "fbgemm")) is int8_linear  # no oneDNN engine


def test_block_products_go_to_onednn_and_agree_with_fbgemm(monkeypatch):
    torch.manual_seed(0)
    linear = torch.nn.Linear(64, 96)
    hybrid, plain = HybridInt8Linear.from_linear(linear), plain_int8_linear(linear)
    assert isinstance(hybrid, torch.ao.nn.quantized.dynamic.Linear)
    assert torch.equal(hybrid.weight().int_repr(), plain.weight().int_repr())
    calls = []
    real = hybrid.multi_row.forward
    monkeypatch.setattr(hybrid.multi_row, "forward", lambda x: calls.append(x.shape) or real(x))
    for rows in (1, MULTI_ROW_MIN - 1, MULTI_ROW_MIN, 40):
        x = torch.randn(1, rows, 64)
        with torch.inference_mode():
            torch.testing.assert_close(hybrid(x), plain(x), rtol=1e-5, atol=1e-5)
    assert [shape[1] for shape in calls] == [MULTI_ROW_MIN, 40]
