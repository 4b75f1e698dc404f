"""Toy data sets, as the authors' toy scripts draw them (2,500 points each, float32 (N, 2))."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ToyData:
    """points: (N, 2). For the Gaussian mixture also means (M, 2) and per-axis stds (M, 2)."""

    name: str
    points: torch.Tensor
    means: torch.Tensor | None = None
    stds: torch.Tensor | None = None


def spiral(n: int = 2500, seed: int = 2019) -> ToyData:
    """r = sqrt(linspace(0, 1, n)) * 780 * 2 pi / 360; x = (-cos(r) r, sin(r) r) + U(0, 0.5) noise."""
    g = torch.Generator().manual_seed(seed)
    r = torch.linspace(0, 1, n, dtype=torch.float64).sqrt() * 780 * 2 * math.pi / 360
    xy = torch.stack((-torch.cos(r) * r, torch.sin(r) * r), dim=1)
    return ToyData("spiral", (xy + 0.5 * torch.rand(n, 2, generator=g, dtype=torch.float64)).float())


def gaussian_mixture(n: int = 2500, modes: int = 5, seed: int = 2019) -> ToyData:
    """``modes`` equal-weight Gaussians, n // modes points each; per mode and axis std ~ U(0.5, 2.5)
    and mean ~ U(-12, 12) (the authors' 'gmm': the paper's mixture of five Gaussians)."""
    g = torch.Generator().manual_seed(seed)
    stds = 0.5 + 2.0 * torch.rand(modes, 2, generator=g)
    means = -12 + 24 * torch.rand(modes, 2, generator=g)
    per = n // modes
    points = torch.cat([torch.randn(per, 2, generator=g) * stds[m] + means[m] for m in range(modes)])
    return ToyData("gmm", points, means, stds)


TOY_DATASETS = {"spiral": spiral, "gmm": gaussian_mixture}


def load_toy(name: str, n: int = 2500, seed: int = 2019) -> ToyData:
    if name not in TOY_DATASETS:
        raise ValueError(f"unknown toy data set {name!r}; expected one of {sorted(TOY_DATASETS)}")
    return TOY_DATASETS[name](n=n, seed=seed)
