"""Covariance and correlation of the leaf gates, and a block-diagonality score for them.

Thesis Fig. 5.11 / 5.19 and paper Fig. 11 show the L x L covariance (correlation) of the leaf
gating values a_i(z) over samples of z, leaves in tree order; with HME the eye sees "spectral
squares" along the diagonal: leaves in one subtree are used together. The **block score** puts a
number on that.

Definition. A is an L x L symmetric matrix (here the gate covariance or correlation), L = 2^d leaves,
d >= 2, in left-to-right tree order. For leaves i != j let lambda(i, j) in {0, ..., d-1} be the depth of
their lowest common ancestor (0: they split at the root; d-1: they are siblings). For a level
k = 1 .. d-1 the *inside share*

    s_k = sum_{i != j, lambda(i,j) >= k} |A_ij|  /  sum_{i != j} |A_ij|

is the share of the off-diagonal mass that lies inside the 2^k diagonal blocks of the level-k
subtrees (2^(d-k) leaves each). Their mean over the levels is the statistic

    S = (1 / (d-1)) sum_k s_k  =  sum_{i != j} |A_ij| lambda(i,j) / ((d-1) sum_{i != j} |A_ij|),

the |A|-weighted mean depth of the lowest common ancestors, scaled to [0, 1]. Under a uniformly
random order of the leaves every off-diagonal entry lands on a uniformly random off-diagonal position,
so E[s_k] = (2^(d-k) - 1) / (L - 1) exactly and E[S] is their mean. The **block score** is

    B = S / E[S]

B = 1: the off-diagonal mass is no more concentrated in subtrees than under a random leaf order
(no hierarchy); the largest value, 1 / E[S], means all of it lies between siblings. Alongside, S is
computed for ``permutations`` random leaf orders (seeded): their mean (which estimates E[S]), their
standard deviation, z = (S - mean) / std and the permutation p-value (1 + #{S_perm >= S}) / (1 + n).

Mass. |A_ij| ('absolute', the default and the score the figures show) counts co-use (positive) and
competition (negative) alike. 'positive' uses max(A_ij, 0) instead: the red squares the eye picks
out. It is fragile where gates are mostly negatively correlated (softmax gates), since it then rests
on a few small entries.

Caveat (see ``figures.initial_generator``): the product-of-gates parametrisation makes the gate
covariance of an *untrained* tree block-shaped already (siblings share every gate above them), so B
of a trained HME must be read against B of the same model at initialisation, which figures.json gives.

ME has no tree: its leaf index order is arbitrary, so its score under index order (the same
formula, as if its K = 2^d leaves were the leaves of a tree) is a *control* that should be ~1,
not a claim about ME. For L not a power of two, or L < 4, there is no score (None).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


def gate_covariance(weights) -> np.ndarray:
    """(N, L) leaf gates over N samples -> (L, L) covariance, float64, unbiased (divides by N-1)."""
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 2 or w.shape[0] < 2:
        raise ValueError(f"gate covariance needs an (N >= 2, L) array of gates, got shape {w.shape}")
    return np.atleast_2d(np.cov(w, rowvar=False))


def gate_correlation(cov: np.ndarray) -> np.ndarray:
    """(L, L) covariance -> (L, L) correlation; NaN in the rows/columns of leaves whose gate never varies."""
    std = np.sqrt(np.clip(np.diag(cov), 0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = cov / np.outer(std, std)
    corr[np.outer(std, std) == 0] = np.nan
    return corr


def tree_depth(num_leaves: int) -> int | None:
    """d with 2^d == num_leaves, or None when num_leaves is not a power of two."""
    if num_leaves < 1 or num_leaves & (num_leaves - 1):
        return None
    return num_leaves.bit_length() - 1


def lca_depths(num_leaves: int) -> np.ndarray:
    """(L, L) int: depth of the lowest common ancestor of leaves i and j of a complete binary tree
    with L = 2^d leaves left to right (d - bit length of i XOR j); the diagonal is d."""
    d = tree_depth(num_leaves)
    if d is None:
        raise ValueError(f"a complete binary tree needs a power-of-two number of leaves, got {num_leaves}")
    i = np.arange(num_leaves)
    xor = i[:, None] ^ i[None, :]
    bits = np.zeros_like(xor)
    nonzero = xor > 0
    bits[nonzero] = np.floor(np.log2(xor[nonzero])).astype(int) + 1
    return d - bits


MASSES = ("absolute", "positive")


def mass_of(matrix: np.ndarray, mass: str = "absolute") -> np.ndarray:
    """The entries' mass: |A_ij| ('absolute') or max(A_ij, 0) ('positive'); NaN counts as 0."""
    a = np.nan_to_num(np.asarray(matrix, dtype=np.float64))
    if mass == "absolute":
        return np.abs(a)
    if mass == "positive":
        return np.clip(a, 0, None)
    raise ValueError(f"mass = {mass!r}: expected one of {MASSES}")


def inside_shares(matrix: np.ndarray, mass: str = "absolute") -> np.ndarray:
    """(L, L) matrix in tree order -> (d-1,) s_k for k = 1..d-1 (see the module docstring)."""
    a = mass_of(matrix, mass)
    lam = lca_depths(a.shape[0])
    d = tree_depth(a.shape[0])
    off = ~np.eye(a.shape[0], dtype=bool)
    total = a[off].sum()
    if total == 0:
        return np.full(d - 1, np.nan)
    return np.array([a[off & (lam >= k)].sum() / total for k in range(1, d)])


def expected_shares(num_leaves: int) -> np.ndarray:
    """(d-1,) E[s_k] under a uniformly random leaf order: (2^(d-k) - 1) / (L - 1)."""
    d = tree_depth(num_leaves)
    return np.array([(2 ** (d - k) - 1) / (num_leaves - 1) for k in range(1, d)])


def block_statistic(matrix: np.ndarray, mass: str = "absolute") -> float:
    """S: the mean of the inside shares s_k over the levels k = 1..d-1."""
    return float(np.mean(inside_shares(matrix, mass)))


@dataclass
class BlockScore:
    """The block score B of one matrix and its random-order baseline (see the module docstring)."""

    score: float  # B = S / E[S]; 1 = no more mass inside subtrees than a random leaf order
    statistic: float  # S, in [0, 1]
    expected: float  # E[S] under a uniformly random leaf order (exact)
    max_score: float  # 1 / E[S]: all off-diagonal mass between siblings
    level_shares: list[float]  # s_k, k = 1..d-1 (level 1 = the two halves of the tree)
    level_ratios: list[float]  # s_k / E[s_k]
    permutation_mean: float  # mean of S over random leaf orders (estimates E[S])
    permutation_std: float
    z: float  # (S - permutation_mean) / permutation_std
    p_value: float  # (1 + #{S_perm >= S}) / (1 + permutations)
    permutations: int
    seed: int
    mass: str  # 'absolute' (|A_ij|) or 'positive' (max(A_ij, 0))

    def to_dict(self) -> dict:
        return asdict(self)


def block_score(matrix: np.ndarray, permutations: int = 1000, seed: int = 0,
                mass: str = "absolute") -> BlockScore | None:
    """The block score of an (L, L) matrix whose rows are in tree order; None if L is not 2^d with
    d >= 2 or the matrix has no off-diagonal mass."""
    a = mass_of(matrix, mass)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"block score needs a square matrix, got shape {a.shape}")
    num_leaves = a.shape[0]
    d = tree_depth(num_leaves)
    if d is None or d < 2:
        return None
    shares = inside_shares(a, "absolute")  # a is already the mass
    if np.isnan(shares).any():
        return None  # no off-diagonal mass at all
    expected = expected_shares(num_leaves)
    statistic, mean_expected = float(shares.mean()), float(expected.mean())
    # S under random orders: S(pi) = sum |A_ij| lambda(pi_i, pi_j) / ((d-1) * total)
    lam = lca_depths(num_leaves).astype(np.float64)
    np.fill_diagonal(lam, 0.0)
    off = a.copy()
    np.fill_diagonal(off, 0.0)
    norm = (d - 1) * off.sum()
    rng = np.random.default_rng(seed)
    perm_stats = np.empty(permutations)
    for t in range(permutations):
        p = rng.permutation(num_leaves)
        perm_stats[t] = (off * lam[np.ix_(p, p)]).sum() / norm
    perm_mean = float(perm_stats.mean()) if permutations else float("nan")
    perm_std = float(perm_stats.std(ddof=1)) if permutations > 1 else float("nan")
    return BlockScore(
        score=statistic / mean_expected, statistic=statistic, expected=mean_expected, max_score=1.0 / mean_expected,
        level_shares=shares.tolist(), level_ratios=(shares / expected).tolist(),
        permutation_mean=perm_mean, permutation_std=perm_std,
        z=(statistic - perm_mean) / perm_std if perm_std > 0 else float("nan"),
        p_value=float((1 + (perm_stats >= statistic - 1e-12).sum()) / (1 + permutations)),
        permutations=permutations, seed=seed, mass=mass,
    )
