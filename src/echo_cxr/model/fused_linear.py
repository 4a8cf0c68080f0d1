"""Sibling projections of one input as one matrix product (CPU int8 / bf16 decoding).

A decoder layer multiplies the same hidden states by q, k and v, and again by gate and up. On a CPU
the small-M products of decoding run faster as one wide product than as several narrow ones (fbgemm
int8, 2 cores, bench/stream_linear.py: the 0.5B layers' products 41.7 -> 37.6 ms per forward at 16
tokens, 22.4 -> 18.9 ms at one; docs/benchmarks.md, section 0), and the activations are quantised
once instead of per projection. ``fuse_projections`` stacks the float weights of each group into one
linear layer, converts it with the format's factory, and puts a ``ProjectionSlice`` where each
projection was: the first slice called with an input computes the whole product, its siblings called
with the same tensor object read their columns of it (as the stock layers call them: one after the
other, on one input). Another input, a repeated call, or an in-place write in between (seen through
the version counter; inference-mode tensors have none) recomputes the product. With
per-output-channel weight scales (the int8 format) the columns are bit-identical to separate layers:
tests/model/test_fused_linear.py.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import torch

# the projections of one input in the stock Qwen2 / Qwen2.5-VL text layers
PROJECTION_GROUPS = (("q_proj", "k_proj", "v_proj"), ("gate_proj", "up_proj"))


class FusedProjections(torch.nn.Module):
    """One product for several projections of the same input; ``part(x, i)`` is projection i."""

    def __init__(self, linears: list[torch.nn.Linear], factory):
        super().__init__()
        weights = [lin.weight.detach() for lin in linears]
        has_bias = [lin.bias is not None for lin in linears]
        stacked = torch.nn.Linear(weights[0].shape[1], sum(w.shape[0] for w in weights), bias=any(has_bias),
                                  dtype=weights[0].dtype)
        with torch.no_grad():
            stacked.weight.copy_(torch.cat(weights))
            if stacked.bias is not None:
                stacked.bias.copy_(torch.cat([lin.bias.detach() if lin.bias is not None
                                              else torch.zeros(lin.out_features, dtype=weights[0].dtype)
                                              for lin in linears]))
        self.linear = factory(stacked)
        edges = torch.tensor([0] + [w.shape[0] for w in weights]).cumsum(0).tolist()
        self.bounds = list(zip(edges[:-1], edges[1:]))
        self._memo: dict[int, _Product] = {}  # per thread: the last product and what was served of it

    def part(self, x: torch.Tensor, index: int) -> torch.Tensor:
        thread, version = threading.get_ident(), _version(x)
        memo = self._memo.get(thread)
        if memo is None or memo.x is not x or memo.version != version or index in memo.served:
            memo = self._memo[thread] = _Product(x, version, self.linear(x), set())
        memo.served.add(index)
        start, stop = self.bounds[index]
        if len(memo.served) == len(self.bounds):  # every sibling served: let go of input and product
            del self._memo[thread]
        return memo.product[..., start:stop]


def _version(x: torch.Tensor) -> int | None:
    """In-place writes bump a tensor's version; inference-mode tensors keep none."""
    return None if x.is_inference() else x._version


@dataclass
class _Product:
    x: torch.Tensor
    version: int | None
    product: torch.Tensor
    served: set


class ProjectionSlice(torch.nn.Module):
    """Stands where projection ``index`` of a ``FusedProjections`` group was: (..., in) -> (..., out)."""

    def __init__(self, group: FusedProjections, index: int):
        super().__init__()
        self.group, self.index = group, index
        start, stop = group.bounds[index]
        self.in_features, self.out_features = group.linear.in_features, stop - start

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.group.part(x, self.index)


def fuse_projections(root: torch.nn.Module, factory) -> int:
    """Fuse every ``PROJECTION_GROUPS`` group of ``nn.Linear`` siblings under ``root`` that share an
    input size and dtype; ``factory(linear)`` builds each fused layer. Returns the groups fused."""
    fused = 0
    for module in list(root.modules()):
        for names in PROJECTION_GROUPS:
            linears = [getattr(module, name, None) for name in names]
            if not all(type(lin) is torch.nn.Linear for lin in linears):
                continue
            if len({(lin.in_features, lin.weight.dtype, lin.weight.device) for lin in linears}) != 1:
                continue
            group = FusedProjections(linears, factory)
            for index, name in enumerate(names):
                setattr(module, name, ProjectionSlice(group, index))
            fused += 1
    return fused
