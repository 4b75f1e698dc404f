"""A trained ME or HME generator seen as a tree of nodes.

* HME-d (``TreeGating``): the binary tree of depth d, 2^(d+1) - 1 nodes numbered breadth-first as in
  ``models/gating.py`` (root 0; children of p are 2p+1 left, 2p+2 right; the leaves are the last
  2^d nodes, left to right). A node's path probability is the product of the gates on its path.
* ME-K (``SoftmaxGating``): a one-level "tree": the root (node 0, probability 1) and the K leaves
  (nodes 1..K, probability = softmax gate). There is no hierarchy; the leaf order is the index order.

The generator of leaf i alone is the trunk applied to that leaf's output: for constant leaves the
same image for every z (G_s(c_i)), for linear leaves G_s(W_i z + w_i0).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..models.gating import SoftmaxGating, TreeGating
from ..models.heads import MixtureHead
from ..models.leaves import ConstantLeaves, LinearLeaves
from ..models.spec import MIXTURES, ModelSpec


def require_mixture(spec: ModelSpec, source: str = "") -> None:
    """Raise ``ValueError`` unless ``spec`` is an ME or HME model (constant or linear leaves)."""
    if spec.family not in MIXTURES:
        where = f"{source}: " if source else ""
        raise ValueError(
            f"{where}figures need an ME or HME model (ME-K, ME-L-K, HME-d, HME-L-d); this checkpoint is "
            f"{spec.name}, which has no gating tree to read")


class Mixture:
    """The nodes, gates and leaves of a trained ME/HME ``Generator`` (``G.head`` is a ``MixtureHead``)."""

    def __init__(self, G: nn.Module, spec: ModelSpec, source: str = ""):
        require_mixture(spec, source)
        if not isinstance(G.head, MixtureHead):
            raise ValueError(f"{source or 'generator'}: model {spec.name} should have a MixtureHead, "
                             f"found {type(G.head).__name__}")
        self.G = G
        self.spec = spec
        self.gating = G.head.gating
        self.leaves = G.head.leaves
        self.is_tree = isinstance(self.gating, TreeGating)
        if not self.is_tree and not isinstance(self.gating, SoftmaxGating):
            raise ValueError(f"{source or 'generator'}: unknown gating {type(self.gating).__name__}")
        self.num_leaves = self.gating.num_leaves
        self.depth = self.gating.depth if self.is_tree else 1
        self.num_nodes = 2 ** (self.depth + 1) - 1 if self.is_tree else self.num_leaves + 1

    @property
    def node_depths(self) -> np.ndarray:
        """(num_nodes,) depth of each node: 0 for the root, ``depth`` for the leaves."""
        if self.is_tree:
            return np.floor(np.log2(np.arange(self.num_nodes) + 1)).astype(int)
        return np.array([0] + [1] * self.num_leaves)

    @property
    def leaf_nodes(self) -> np.ndarray:
        """(L,) node index of each leaf, left to right (the last L nodes, for both kinds)."""
        return np.arange(self.num_nodes - self.num_leaves, self.num_nodes)

    def node_probs(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, z_dim) -> (B, num_nodes) path probability of every node; the root column is 1."""
        if self.is_tree:
            return self.gating.node_probs(z)
        weights = self.gating(z)
        return torch.cat((torch.ones_like(weights[:, :1]), weights), dim=1)

    def leaf_weights(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, z_dim) -> (B, L) leaf gates (mixture weights), rows sum to one."""
        return self.gating(z)

    def leaf_output(self, z: torch.Tensor, leaf: int) -> torch.Tensor:
        """Leaf ``leaf``'s output G_leaf(z): z (B, z_dim) -> (B, out), the trunk's input."""
        if not 0 <= leaf < self.num_leaves:
            raise IndexError(f"leaf {leaf} out of range: model {self.spec.name} has {self.num_leaves} leaves")
        if isinstance(self.leaves, ConstantLeaves):
            return self.leaves.values[leaf].unsqueeze(0).expand(z.shape[0], -1)
        if isinstance(self.leaves, LinearLeaves):
            return z @ self.leaves.weight[leaf] + self.leaves.bias[leaf]
        raise TypeError(f"unknown leaf kind {type(self.leaves).__name__}")

    @torch.no_grad()
    def leaf_images(self, z: torch.Tensor, leaf: int) -> torch.Tensor:
        """Images of leaf ``leaf``'s generator alone, trunk(G_leaf(z)): (B, z_dim) -> (B, C, H, W) in [-1, 1]."""
        return self.G.trunk(self.leaf_output(z, leaf))
