"""A linear layer with bfloat16 weights and products, float32 in and out (``--quantize bf16``)."""

from __future__ import annotations

import torch


class BFloat16Linear(torch.nn.Module):
    """``x @ W.T + b`` with W stored and multiplied in bfloat16; x, b and the result in float32.

    Only the product is rounded: norms, attention and the residual stream around it keep float32.
    """

    def __init__(self, linear: torch.nn.Linear):
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.weight = torch.nn.Parameter(linear.weight.detach().to(torch.bfloat16), requires_grad=False)
        self.bias = None if linear.bias is None else torch.nn.Parameter(linear.bias.detach(), requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (..., in) -> (..., out)
        # as a 2D product: torch sends 3D bfloat16 inputs down a batched path that copies W every call
        flat = x.reshape(-1, self.in_features).to(torch.bfloat16)
        out = torch.nn.functional.linear(flat, self.weight).to(x.dtype).view(*x.shape[:-1], self.out_features)
        return out if self.bias is None else out + self.bias
