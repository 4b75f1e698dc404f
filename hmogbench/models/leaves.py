"""Leaf generators of the ME / HME heads and their gated combination.

Each leaf l maps z (B, in) to a vector of ``out_features`` (the trunk's 4x4 feature map,
flattened channel-major). The mixture output is sum_l a_l(z) G_l(z) (thesis eq. 4.2 / 4.6).

* ``ConstantLeaves`` -- G_l(z) = c_l                (thesis eq. 4.3); c ~ N(0, 1) as in the authors' code.
* ``LinearLeaves``   -- G_l(z) = W_l z + w_l0       (thesis eq. 4.4); W ~ N(0, 1/in), i.e. std 0.1 for
  z = 100 (Kaiming-normal, linear gain), bias zero.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .init import randn_over


class ConstantLeaves(nn.Module):
    """L constant vectors; the mixture is a convex combination of them (inside their convex hull)."""

    def __init__(self, num_leaves: int, out_features: int):
        super().__init__()
        self.values = nn.Parameter(torch.randn(num_leaves, out_features))

    def outputs(self, z: torch.Tensor) -> torch.Tensor:
        """Every leaf's response: (B, in) -> (B, L, out). Independent of z's values."""
        return self.values.unsqueeze(0).expand(z.shape[0], -1, -1)

    def forward(self, z: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Gated sum: z (B, in), weights (B, L) -> (B, out)."""
        return weights @ self.values


class LinearLeaves(nn.Module):
    """L affine maps of z.

    The gated sum sum_l a_l (W_l z + b_l) is computed as one matrix product of the outer product
    a (x) z, shape (B, L*in), with the stacked weights (L*in, out), plus a @ b. This never
    materialises the per-sample gated matrix (B, out, in) that the authors' code builds, nor the
    (B, L, out) stack of leaf outputs, and gives the same numbers up to float rounding.
    """

    def __init__(self, num_leaves: int, in_features: int, out_features: int):
        super().__init__()
        self.weight = nn.Parameter(randn_over(num_leaves, in_features, out_features, divisor=math.sqrt(in_features)))
        self.bias = nn.Parameter(torch.zeros(num_leaves, out_features))

    def outputs(self, z: torch.Tensor) -> torch.Tensor:
        """Every leaf's response: (B, in) -> (B, L, out)."""
        return torch.einsum("bi,lio->blo", z, self.weight) + self.bias

    def forward(self, z: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Gated sum: z (B, in), weights (B, L) -> (B, out)."""
        num_leaves, in_features, out_features = self.weight.shape
        gated_z = (weights.unsqueeze(2) * z.unsqueeze(1)).reshape(z.shape[0], num_leaves * in_features)
        return gated_z @ self.weight.reshape(num_leaves * in_features, out_features) + weights @ self.bias
