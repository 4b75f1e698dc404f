"""Mode coverage of samples from a Gaussian mixture with known modes.

A sample is *within 3 sigma* of mode m when its standardised distance
sqrt(sum_axis ((x - mu_m) / sigma_m)^2) is at most 3 (per-axis sigma; 98.9% of a 2-D Gaussian's
mass). A mode is *covered* when at least ``min_share`` (default 1%) of all samples are within
3 sigma of it, so that a few stray points do not count as covering a mode.
"""

from __future__ import annotations

import torch


def within_radius(samples: torch.Tensor, means: torch.Tensor, stds: torch.Tensor, radius: float = 3.0) -> torch.Tensor:
    """(N, 2), (M, 2), (M, 2) -> bool (N, M): sample n is within ``radius`` sigma of mode m."""
    z = (samples[:, None, :] - means[None]) / stds[None]
    return z.pow(2).sum(-1).sqrt() <= radius


def mode_coverage(
    samples: torch.Tensor, means: torch.Tensor, stds: torch.Tensor, radius: float = 3.0, min_share: float = 0.01
) -> dict[str, float]:
    """modes_covered (count), modes_total, mode_share (covered / total) and quality_share (share of
    samples within ``radius`` sigma of some mode)."""
    near = within_radius(samples.float(), means.float(), stds.float(), radius)
    per_mode = near.float().mean(0)
    covered = int((per_mode >= min_share).sum())
    return {
        "modes_covered": covered,
        "modes_total": int(means.shape[0]),
        "mode_share": covered / means.shape[0],
        "quality_share": float(near.any(1).float().mean()),
    }


def uniform_baseline(means: torch.Tensor, stds: torch.Tensor, low: float, high: float, n: int = 20000,
                     seed: int = 0, **kwargs) -> dict[str, float]:
    """Coverage of points uniform on the square [low, high]^2: what chance placement achieves."""
    g = torch.Generator().manual_seed(seed)
    return mode_coverage(low + (high - low) * torch.rand(n, 2, generator=g), means, stds, **kwargs)
