"""Soft counts and average responses of the nodes of a mixture (thesis 5.6, Fig. 5.10/5.18/5.24-5.30).

For M samples x_n = G(z_n) and a node m with path probability p_m(z) (the product of the gates on
the path from the root to m), the node's

* soft count   c_m = sum_n p_m(z_n)                      (units: samples; a hard tree would count the
                                                           samples whose path passes through m)
* average response  r_m = sum_n p_m(z_n) x_n / c_m       (an image, in the generator's [-1, 1] units)

The root has p = 1, so c_root = M and r_root is the plain mean of the samples. The children of a
node split its probability, so the soft counts of all nodes at one depth sum to M.
"""

from __future__ import annotations

import torch
from tqdm.auto import tqdm

from .mixture import Mixture


def soft_counts(node_probs: torch.Tensor) -> torch.Tensor:
    """(M, nodes) path probabilities -> (nodes,) soft counts, float64 (sum over the M samples)."""
    return node_probs.double().sum(dim=0)


def weighted_average(x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """x (M, ...) and weights (M, nodes) -> (nodes, ...) float64: sum_n w_nm x_n / sum_n w_nm."""
    num = weights.double().T @ x.double().flatten(1)
    return (num / weights.double().sum(dim=0, keepdim=True).T).view(weights.shape[1], *x.shape[1:])


@torch.no_grad()
def node_average_responses(mix: Mixture, z: torch.Tensor, batch_size: int = 100, device: str | torch.device = "cpu",
                           progress: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Average response and soft count of every node over the samples G(z).

    z (M, z_dim) -> (averages (nodes, C, H, W) float64 in [-1, 1], soft counts (nodes,) float64).
    Streams over batches of ``batch_size`` (never holds the M images), accumulating in float64."""
    sums, counts = None, None
    for start in tqdm(range(0, z.shape[0], batch_size), disable=not progress, desc="node responses", unit="batch"):
        zb = z[start : start + batch_size].to(device)
        x = mix.G(zb).double().cpu()
        p = mix.node_probs(zb).double().cpu()
        part = p.T @ x.flatten(1)
        sums = part if sums is None else sums + part
        counts = p.sum(0) if counts is None else counts + p.sum(0)
    if sums is None:
        raise ValueError("node_average_responses needs at least one z")
    return (sums / counts[:, None]).view(mix.num_nodes, *x.shape[1:]), counts


@torch.no_grad()
def draw_node_probs(mix: Mixture, z: torch.Tensor, batch_size: int = 1000, device: str | torch.device = "cpu",
                    progress: bool = False) -> torch.Tensor:
    """z (N, z_dim) -> (N, nodes) float32 path probabilities on the CPU (gating only; no images)."""
    out = []
    for start in tqdm(range(0, z.shape[0], batch_size), disable=not progress, desc="gating draws", unit="batch"):
        out.append(mix.node_probs(z[start : start + batch_size].to(device)).float().cpu())
    return torch.cat(out)


def top_indices(probs: torch.Tensor, k: int) -> torch.Tensor:
    """probs (N, n) -> (n, k) long: for each column, the rows of its k largest values, largest first
    (the draws where that node's / leaf's gate is highest)."""
    if k > probs.shape[0]:
        raise ValueError(f"top {k} of {probs.shape[0]} draws: need at least {k} draws")
    return torch.topk(probs, k, dim=0).indices.T
