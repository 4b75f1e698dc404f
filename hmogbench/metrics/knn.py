"""The thesis's k-NN leave-one-out score (thesis 2.5; ``nn_accuracy`` of the authors' code), exact and chunked.

Real and fake feature vectors are pooled; every point's k nearest neighbours are taken among the other
points (Euclidean, the point itself excluded). Per point, ``w`` = how many of its k neighbours are real.

- ``soft`` (the thesis's computation): "k-NN real" = mean over real points of w / k, "k-NN fake" = mean over
  fake points of (k - w) / k, in percent. 50% means indistinguishable sets, 100% fully separated ones.
- ``majority``: the leave-one-out accuracy of the k-NN majority-vote classifier, in percent: a real point
  counts 1 when w > k/2, a fake point when k - w > k/2, and either counts 1/2 when the vote is exactly split.

Distances are computed exactly in float64 (features are centred first; squared distances by the expanded
formula), in chunks of query rows, so memory stays bounded (under 16 bytes x chunk x N) on CPU or GPU.

Ties: squared distances within ``TIE_RTOL * (|q|^2 + d_k^2)`` of the k-th smallest one (d_k^2; |q| is the
query's norm after centring) count as tied with it. Points strictly closer are neighbours; the tied points
share the remaining places equally (so a tie never favours real or fake points, and results do not depend
on the order of the points). This is the expectation over all ways of breaking the ties; without ties it is
plain k-NN. Exact duplicates are the usual source of ties.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from .distances import DEFAULT_CHUNK_ELEMENTS, squared_distance_blocks

RULES = ("soft", "majority")
TIE_RTOL = 1e-9


@dataclass(frozen=True)
class KnnScore:
    """k-NN real and k-NN fake in percent."""

    k: int
    rule: str
    real_pct: float
    fake_pct: float

    def as_dict(self) -> dict:
        return asdict(self)


def _as_matrix(x: np.ndarray | torch.Tensor, name: str) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"{name} features must be a non-empty (N, D) matrix, got shape {tuple(x.shape)}")
    return x


def real_neighbour_counts(real: np.ndarray | torch.Tensor, fake: np.ndarray | torch.Tensor, k: int = 5, *,
                          device: str | torch.device = "cpu", chunk_size: int | None = None,
                          progress: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Per point, the number ``w`` of real points among its k nearest neighbours in the pool [real; fake].

    real (N_r, D), fake (N_f, D) -> float64 w for real points (N_r,) and fake points (N_f,), each in [0, k]
    (fractional only where ties are shared)."""
    real, fake = _as_matrix(real, "real"), _as_matrix(fake, "fake")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"real and fake features differ in dimension: {real.shape[1]} vs {fake.shape[1]}")
    n = len(real) + len(fake)
    if not 1 <= k <= n - 1:
        raise ValueError(f"k must be between 1 and {n - 1} (points in the pool minus one), got {k}")
    device = torch.device(device)
    pool = torch.empty((n, real.shape[1]), dtype=torch.float64, device=device)
    pool[:len(real)], pool[len(real):] = real, fake
    if not torch.isfinite(pool).all():
        raise ValueError("features contain NaN or infinite values")
    pool -= pool.mean(dim=0)
    norms = (pool * pool).sum(dim=1)
    is_real = torch.zeros(n, dtype=torch.bool, device=device)
    is_real[:len(real)] = True
    if chunk_size is None:
        chunk_size = max(1, DEFAULT_CHUNK_ELEMENTS.get(device.type, 2 ** 24) // n)

    counts = torch.empty(n, dtype=torch.float64, device=device)
    blocks = squared_distance_blocks(pool, pool, chunk_size)
    for start, d2 in tqdm(blocks, total=-(-n // chunk_size), disable=not progress, desc=f"{k}-NN", unit="chunk"):
        stop = start + len(d2)
        rows = torch.arange(stop - start, device=device)
        d2[rows, rows + start] = torch.inf  # leave the point itself out
        kth = d2.topk(k, dim=1, largest=False).values[:, -1:]
        tol = TIE_RTOL * (norms[start:stop, None] + kth)
        closer = d2 < kth - tol
        tied = (d2 <= kth + tol) & ~closer
        n_closer, n_tied = closer.sum(dim=1), tied.sum(dim=1)
        real_closer, real_tied = (closer & is_real).sum(dim=1), (tied & is_real).sum(dim=1)
        counts[start:stop] = real_closer + (k - n_closer) * real_tied.double() / n_tied
    counts = counts.cpu()
    return counts[:len(real)], counts[len(real):]


def knn_score(real: np.ndarray | torch.Tensor, fake: np.ndarray | torch.Tensor, k: int = 5, *,
              rule: str = "soft", device: str | torch.device = "cpu", chunk_size: int | None = None,
              progress: bool = False) -> KnnScore:
    """k-NN real and k-NN fake (percent) of feature sets real (N_r, D) and fake (N_f, D); see the module text."""
    if rule not in RULES:
        raise ValueError(f"unknown k-NN rule {rule!r}; expected one of {', '.join(RULES)}")
    w_real, w_fake = real_neighbour_counts(real, fake, k, device=device, chunk_size=chunk_size, progress=progress)
    own_real, own_fake = w_real, k - w_fake  # neighbours of the point's own kind
    if rule == "soft":
        real_pct, fake_pct = own_real.mean() / k, own_fake.mean() / k
    else:
        def vote(own: torch.Tensor) -> torch.Tensor:
            return ((own > k / 2).double() + 0.5 * (own == k / 2).double()).mean()

        real_pct, fake_pct = vote(own_real), vote(own_fake)
    return KnnScore(k, rule, 100 * float(real_pct), 100 * float(fake_pct))
