"""An image run's models, built reproducibly from its config, and the check of its training data."""

from __future__ import annotations

import random

import numpy as np
import torch
from torch import nn

from ..models.generator import build_discriminator, build_generator
from .config import TrainConfig
from .objectives import Objective, objective_of


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA), as the authors' scripts did."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def build_models(cfg: TrainConfig) -> tuple[nn.Module, nn.Module, Objective]:
    """Seed with ``cfg.seed``, then build G, D and the objective of ``cfg`` (weights reproducible)."""
    seed_everything(cfg.seed)
    spec = cfg.spec
    G = build_generator(spec, cfg.image_size, cfg.channels, cfg.z_dim, megan_tau=cfg.megan_tau)
    D = build_discriminator(spec, cfg.image_size, cfg.channels, norm=cfg.d_norm)
    return G, D, objective_of(cfg)


def check_training_data(cfg: TrainConfig, data: torch.Tensor) -> None:
    """``data`` must be (N, C, H, W) with ``cfg``'s channels and image size."""
    expected = (cfg.channels, cfg.image_size, cfg.image_size)
    if data.dim() != 4 or tuple(data.shape[1:]) != expected:
        raise ValueError(f"training data has shape {tuple(data.shape)}; config expects (N, {', '.join(map(str, expected))})")
