"""Kernel Inception Distance (Binkowski et al. 2018) exactly as torch-fidelity computes it (metric_kid.py).

For each of ``subsets`` random subsets, m real and m fake feature vectors (drawn without replacement by
``np.random.RandomState(seed).choice``, the real ones then the fake ones, subset after subset), the unbiased
estimator of the squared MMD with the polynomial kernel k(x, y) = (gamma x.y + coef0)^degree:

    MMD^2 = sum_{i != j} [k(x_i, x_j) + k(y_i, y_j)] / (m (m - 1)) - 2 sum_{i, j} k(x_i, y_j) / m^2.

KID = mean and (population) standard deviation over the subsets. Defaults as torch-fidelity's: 100 subsets of
1000, degree 3, gamma 1/D, coef0 1, seed 2020. Where a set has fewer points than the subset size asked for,
m = min(subset_size, N_real, N_fake) (torch-fidelity refuses instead) and the result carries a ``warning``
saying so; where every subset is then the whole of both sets, the std over subsets is 0 and says nothing, and
the warning says that too. Subsets of fewer than ``MIN_SUBSET_SIZE`` points are refused (docs/metrics.md: one
subset's estimate is then noisier than the differences it measures). Unbiased: near 0, possibly negative, for
sets of one distribution.
Computed in float64 (torch-fidelity: float32) with torch on any device: per subset three m x m x D products,
or, where all inner products of the two sets fit in ``GRAM_ELEMENTS``, those once (2 CPU cores, D = 2048:
~3 s for N = 1000, ~26 s for N = 10,000; not yet measured on a GPU).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch

from .distances import paired_features

GRAM_ELEMENTS = {"cpu": 2 ** 26, "cuda": 2 ** 28}  # float64 entries: up to this, all inner products at once
SUBSETS, SUBSET_SIZE = 100, 1000  # the defaults: torch-fidelity's
MIN_SUBSET_SIZE = 10  # points per set in a subset; fewer are refused (docs/metrics.md says why 10)
WHOLE_SET = "every subset is the whole set: the std over subsets is 0 and says nothing"


@dataclass(frozen=True)
class KidScore:
    """KID's mean and standard deviation over the subsets (units: the kernel's, squared-MMD), and how."""

    mean: float
    std: float
    subsets: int
    subset_size: int  # m, the points per set in a subset: the size asked for, capped at the smaller set
    subset_size_requested: int
    degree: int
    gamma: float
    coef0: float
    seed: int
    warning: str | None = None  # the cap and what it means (``subset_warning``); None when m is as asked

    def as_dict(self) -> dict:
        return asdict(self)

    def parameters(self) -> dict:
        """Everything but the mean and std."""
        return {k: v for k, v in asdict(self).items() if k not in ("mean", "std")}


def subset_indices(n_real: int, n_fake: int, subsets: int, subset_size: int,
                   seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """torch-fidelity's draws: per subset, ``subset_size`` of ``n_real`` then of ``n_fake`` indices."""
    rng = np.random.RandomState(seed)
    return [(rng.choice(n_real, subset_size, replace=False), rng.choice(n_fake, subset_size, replace=False))
            for _ in range(subsets)]


def mmd2_unbiased(k_xx: torch.Tensor, k_xy: torch.Tensor, k_yy: torch.Tensor) -> float:
    """The unbiased MMD^2 of kernel matrices (m, m): torch-fidelity's ``mmd2(..., mmd_est='unbiased')``."""
    m = k_xx.shape[0]
    within = k_xx.sum() - k_xx.diagonal().sum() + k_yy.sum() - k_yy.diagonal().sum()
    return float(within / (m * (m - 1)) - 2 * k_xy.sum() / (m * m))


def check_kid_options(subsets: int, subset_size: int) -> None:
    """ValueError unless subsets >= 1 and subset_size >= MIN_SUBSET_SIZE."""
    if subsets < 1 or subset_size < MIN_SUBSET_SIZE:
        raise ValueError(f"KID: expected subsets >= 1 and subset size >= {MIN_SUBSET_SIZE}, got {subsets} and "
                         f"{subset_size}")


def capped_subset_size(subset_size: int, n_real: int, n_fake: int) -> int:
    """m = min(subset_size, N_r, N_f); a one-line ValueError when m < MIN_SUBSET_SIZE (sets too small)."""
    m = min(subset_size, n_real, n_fake)
    if m < MIN_SUBSET_SIZE:
        raise ValueError(f"KID: the sets hold {n_real} real and {n_fake} fake points; expected at least "
                         f"{MIN_SUBSET_SIZE} in each (the least subset size, docs/metrics.md)")
    return m


def subset_warning(requested: int, m: int, n_real: int, n_fake: int) -> str | None:
    """What a capped subset size means for the result, or None when m is the size asked for and the subsets
    are not all the whole of both sets."""
    parts = []
    if m < requested:
        parts.append(f"subset size capped at the set size: {requested} requested, {m} used "
                     f"({n_real} real, {n_fake} fake points)")
    if m == n_real == n_fake:
        parts.append(WHOLE_SET)
    return "; ".join(parts) or None


def kid_score(real: np.ndarray | torch.Tensor, fake: np.ndarray | torch.Tensor, *, subsets: int = SUBSETS,
              subset_size: int = SUBSET_SIZE, degree: int = 3, gamma: float | None = None, coef0: float = 1.0,
              seed: int = 2020, device: str | torch.device = "cpu") -> KidScore:
    """KID of feature sets real (N_r, D) and fake (N_f, D); see the module text. The subset size used is
    min(subset_size, N_r, N_f) (the result's ``subset_size``, with a ``warning`` when capped); gamma None means
    1 / D."""
    check_kid_options(subsets, subset_size)
    device = torch.device(device)
    real, fake = paired_features(real, fake, device, "KID", min_rows=2)
    m = capped_subset_size(subset_size, len(real), len(fake))
    gamma = 1.0 / real.shape[1] if gamma is None else float(gamma)

    def kernel(inner: torch.Tensor) -> torch.Tensor:
        return (inner * gamma + coef0) ** degree

    n_r, n_f = len(real), len(fake)
    gram = None
    if n_r * n_r + n_f * n_f + n_r * n_f <= GRAM_ELEMENTS.get(device.type, GRAM_ELEMENTS["cpu"]):
        gram = real @ real.T, fake @ fake.T, real @ fake.T  # every subset's inner products are entries of these
    values = []
    for i_r, i_f in subset_indices(n_r, n_f, subsets, m, seed):
        i_r, i_f = torch.from_numpy(i_r).to(device), torch.from_numpy(i_f).to(device)
        if gram is not None:
            rr, ff, rf = gram[0][i_r][:, i_r], gram[1][i_f][:, i_f], gram[2][i_r][:, i_f]
        else:
            x, y = real[i_r], fake[i_f]
            rr, ff, rf = x @ x.T, y @ y.T, x @ y.T
        values.append(mmd2_unbiased(kernel(rr), kernel(rf), kernel(ff)))
    return KidScore(float(np.mean(values)), float(np.std(values)), subsets, m, subset_size, degree, gamma,
                    float(coef0), seed, subset_warning(subset_size, m, n_r, n_f))
