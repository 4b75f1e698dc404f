"""The sampling truncation of the paper's Fig. 10: "we randomly draw {z_i} and disregard the least
likely 25% percent to get rid of possible outliers" (citing BigGAN). No code for it exists in the
authors' repositories.

Interpretation used here: z ~ N(0, I) has density proportional to exp(-||z||^2 / 2), which falls as
||z|| grows, so "the least likely 25%" of a set of draws are the 25% with the largest Euclidean norm.
We drop those (floor(0.25 N) of N draws) and keep the rest in their draw order. This is not BigGAN's
truncation trick (which resamples each coordinate outside a threshold); the paper only names the
share to discard.
"""

from __future__ import annotations

import torch


def truncate_least_likely(z: torch.Tensor, drop: float = 0.25) -> tuple[torch.Tensor, torch.Tensor, float]:
    """z (N, z_dim) -> (kept z (N - floor(drop N), z_dim), their indices into z (ascending), norm threshold).

    The threshold is the largest kept ||z|| (every dropped draw has a norm >= it)."""
    if not 0 <= drop < 1:
        raise ValueError(f"truncation share must be in [0, 1), got {drop}")
    if z.ndim != 2 or z.shape[0] == 0:
        raise ValueError(f"expected z of shape (N >= 1, z_dim), got {tuple(z.shape)}")
    n_drop = int(drop * z.shape[0])
    norms = z.double().norm(dim=1)
    order = torch.argsort(norms, stable=True)
    kept = torch.sort(order[: z.shape[0] - n_drop]).values
    return z[kept], kept, float(norms[kept].max())
