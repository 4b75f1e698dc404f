"""Gating networks: how much each leaf generator contributes for a given z.

Both gates map z (B, z_dim) to mixture weights (B, L) that are non-negative and sum to one.

* ``SoftmaxGating`` -- flat mixture, thesis eq. 4.1 / 4.7:  a_i(z) = softmax(V z + v0)_i.
* ``TreeGating``    -- hierarchical mixture, thesis eq. 4.5-4.9: a binary tree of depth d with a
  sigmoid gate sigma_m(z) at each of its 2^d - 1 internal nodes; a leaf's weight is the product of
  the gates on its path, sigma_m towards the left child and 1 - sigma_m towards the right child.

Node numbering is breadth-first as in the authors' code: the root is node 0, the children of node p
are 2p+1 (left) and 2p+2 (right), and the leaves are the last 2^d nodes, left to right.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .init import normal_


class SoftmaxGating(nn.Module):
    """Softmax gate over ``num_leaves`` experts (thesis eq. 4.1).

    Initialisation follows the authors' ``MoE``: weight (in, K) Xavier-normal, which for a 2-D
    tensor stored as (in, K) gives std sqrt(2 / (in + K)); bias zero.
    """

    def __init__(self, in_features: int, num_leaves: int):
        super().__init__()
        self.num_leaves = num_leaves
        self.weight = nn.Parameter(torch.empty(in_features, num_leaves))
        self.bias = nn.Parameter(torch.zeros(num_leaves))
        normal_(self.weight, std=math.sqrt(2.0 / (in_features + num_leaves)))

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        """(B, in) -> (B, K) unnormalised log-weights."""
        return z @ self.weight + self.bias

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """(B, in) -> (B, K) leaf weights, rows sum to one."""
        return torch.softmax(self.logits(z), dim=1)


class TreeGating(nn.Module):
    """Soft binary decision tree of depth ``depth`` (thesis eq. 4.5-4.9).

    Initialisation follows the authors' ``SoftTree``: weight (in, 2^d - 1) with std 1/sqrt(in)
    (Kaiming-normal for a sigmoid gain on the transposed tensor), bias zero.
    """

    def __init__(self, in_features: int, depth: int):
        super().__init__()
        if depth < 1:
            raise ValueError(f"tree depth must be >= 1, got {depth}")
        self.depth = depth
        self.num_leaves = 2**depth
        self.num_internal = 2**depth - 1
        self.weight = nn.Parameter(torch.empty(in_features, self.num_internal))
        self.bias = nn.Parameter(torch.zeros(self.num_internal))
        normal_(self.weight, std=1.0 / math.sqrt(in_features))
        nodes, left = leaf_paths(depth)
        self.register_buffer("path_nodes", nodes, persistent=False)  # (L, d) internal nodes root -> leaf
        self.register_buffer("path_left", left, persistent=False)  # (L, d) True where the path goes left

    def gates(self, z: torch.Tensor) -> torch.Tensor:
        """(B, in) -> (B, 2^d - 1) sigmoid value of every internal node, breadth-first."""
        return torch.sigmoid(z @ self.weight + self.bias)

    def node_probs(self, z: torch.Tensor) -> torch.Tensor:
        """(B, in) -> (B, 2^(d+1) - 1) path probability of every node, breadth-first.

        The root has probability 1; each level is computed in one vectorised step from the level
        above (d steps in all), so every node of a level is handled at once.
        """
        g = self.gates(z)
        level = torch.ones_like(g[:, :1])
        levels = [level]
        for d in range(self.depth):
            gd = g[:, 2**d - 1 : 2 ** (d + 1) - 1]  # gates of level d, left to right
            # children of node i of this level are 2i (left, * g) and 2i+1 (right, * (1-g))
            level = torch.stack((level * gd, level * (1.0 - gd)), dim=2).flatten(1)
            levels.append(level)
        return torch.cat(levels, dim=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """(B, in) -> (B, 2^d) leaf weights (eq. 4.8), rows sum to one: for all leaves at once, the
        product over each root-to-leaf path of sigma_m (left turns) or 1 - sigma_m (right turns)."""
        g = self.gates(z)[:, self.path_nodes]  # (B, L, d)
        return torch.where(self.path_left, g, 1.0 - g).prod(dim=2)


def leaf_paths(depth: int) -> tuple[torch.Tensor, torch.Tensor]:
    """For each leaf, left to right: the internal nodes on its path from the root, (2^d, d) long,
    and whether the path turns left at each of them, (2^d, d) bool (breadth-first numbering). In a meta build
    (``torch.device("meta")``), meta tensors of those shapes, uncomputed (meta arithmetic would import
    torch._dynamo: hmogbench.models.init)."""
    if torch.empty(0).is_meta:
        return torch.empty(2**depth, depth, dtype=torch.long), torch.empty(2**depth, depth, dtype=torch.bool)
    leaves = torch.arange(2**depth)
    nodes, left = [], []
    for level in range(depth):
        ancestor = leaves >> (depth - level)  # index of the level-`level` ancestor within its level
        nodes.append(2**level - 1 + ancestor)
        left.append(((leaves >> (depth - level - 1)) & 1) == 0)  # next bit 0: left child
    return torch.stack(nodes, 1), torch.stack(left, 1)

