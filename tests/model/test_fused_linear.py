"""Fused sibling projections (model/fused_linear.py): each slice gives exactly what its projection
gave alone, whatever the call order, input or thread, and a fused int8 model decodes token for
token like the same int8 model without fusion."""

from __future__ import annotations

import copy
import threading
from dataclasses import replace

import pytest
import torch

from echo_cxr.model.fused_linear import FusedProjections, ProjectionSlice, fuse_projections
from echo_cxr.model.quantize import bf16_linear, int8_linear, quantize_model, swap_linear_layers


def _siblings(seed=0, outs=(24, 8, 8), bias=(True, True, False)):
    torch.manual_seed(seed)
    return [torch.nn.Linear(16, o, bias=b) for o, b in zip(outs, bias)]


@pytest.mark.parametrize("factory", [int8_linear, bf16_linear, lambda linear: linear], ids=["int8", "bf16", "float"])
def test_each_slice_equals_its_projection_alone(factory):
    linears = _siblings()
    alone = [factory(copy.deepcopy(lin)) for lin in linears]
    group = FusedProjections(linears, factory)
    slices = [ProjectionSlice(group, i) for i in range(len(linears))]
    x = torch.randn(2, 5, 16)
    with torch.no_grad():
        for part, single in zip(slices, alone):  # the stock order: one input, each sibling once
            assert part.out_features == single(x).shape[-1]
            torch.testing.assert_close(part(x), single(x), rtol=0, atol=0 if factory is int8_linear else 1e-6)


def test_other_orders_inputs_and_in_place_writes_recompute():
    linears = _siblings(1)
    group = FusedProjections(linears, lambda lin: lin)
    q, k, v = (ProjectionSlice(group, i) for i in range(3))
    x, y = torch.randn(3, 16), torch.randn(3, 16)
    with torch.no_grad():
        expect = lambda i, t: linears[i](t)  # noqa: E731
        torch.testing.assert_close(q(x), expect(0, x))
        torch.testing.assert_close(k(y), expect(1, y))  # another input
        torch.testing.assert_close(k(y), expect(1, y))  # the same part twice
        torch.testing.assert_close(v(x), expect(2, x))
        first = q(x)
        x.mul_(2)  # written in place between siblings
        torch.testing.assert_close(k(x), expect(1, x))
        torch.testing.assert_close(first, expect(0, x / 2))
        q(y), k(y), v(y)
    assert not group._memo  # every sibling served: input and product let go


def test_threads_do_not_share_a_product():
    linears = _siblings(2)
    group = FusedProjections(linears, lambda lin: lin)
    q, k = ProjectionSlice(group, 0), ProjectionSlice(group, 1)
    x, y = torch.randn(3, 16), torch.randn(3, 16)
    seen = {}
    with torch.no_grad():
        q(x)  # this thread's product waits for k(x)
        worker = threading.Thread(target=lambda: seen.setdefault("k", k(y)))
        worker.start()
        worker.join()
        torch.testing.assert_close(seen["k"], linears[1](y))
        torch.testing.assert_close(k(x), linears[1](x))


def test_only_same_sized_linear_siblings_are_fused():
    layer = torch.nn.Module()
    layer.q_proj, layer.k_proj, layer.v_proj = torch.nn.Linear(8, 8), torch.nn.Linear(8, 4), torch.nn.Linear(6, 4)
    layer.gate_proj, layer.up_proj = torch.nn.Linear(8, 12), torch.nn.Linear(8, 12)
    assert fuse_projections(layer, lambda lin: lin) == 1
    assert isinstance(layer.gate_proj, ProjectionSlice) and layer.gate_proj.group is layer.up_proj.group
    assert type(layer.q_proj) is torch.nn.Linear  # v_proj reads another size: left alone


def test_fused_int8_model_decodes_like_the_unfused_one(tiny_bundle, studies):
    from echo_cxr.decoding import DecodeConfig, generate

    fused = quantize_model(replace(tiny_bundle, model=copy.deepcopy(tiny_bundle.model)), "int8")
    plain = replace(fused, model=copy.deepcopy(tiny_bundle.model))
    swap_linear_layers(plain.model, int8_linear)  # the same per-channel int8 layers, one by one
    assert isinstance(fused.model.model.language_model.layers[0].self_attn.k_proj, ProjectionSlice)
    assert type(plain.model.model.language_model.layers[0].self_attn.k_proj) is not ProjectionSlice
    for kw in (dict(block_length=4, steps=1, fused=True), dict(block_length=4, steps=4, threshold=0.9)):
        config = DecodeConfig(max_new_tokens=12, ignore_eos=True, **kw)
        tokens = lambda bundle: [r.token_ids for r in generate(bundle, studies, config)]  # noqa: E731
        assert tokens(fused) == tokens(plain)
