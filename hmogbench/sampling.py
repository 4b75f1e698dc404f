"""Trained generators back from disk, and samples from them as uint8 images.

The thesis evaluates 10,000 samples drawn in ``G.eval()`` mode from z ~ N(0, I) (authors'
``sdt-generative`` training scripts). Here z is drawn on the CPU from a generator seeded with
``seed``, so the same (checkpoint, seed, count) gives the same z on every device.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from .config import TrainConfig
from .models.generator import Generator, build_generator

GENERATOR_FILE = "generator.pt"


def generator_path(run: str | Path) -> Path:
    """A run directory or a generator file -> the generator file (``<run>/generator.pt``)."""
    path = Path(run)
    if path.is_dir():
        path = path / GENERATOR_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path}: no trained generator here (a run writes {GENERATOR_FILE} when it completes)")
    return path


def load_generator(run: str | Path, device: str | torch.device = "cpu") -> tuple[Generator, TrainConfig]:
    """(G in eval mode on ``device``, its TrainConfig) from a run directory or its generator.pt."""
    path = generator_path(run)
    saved = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(saved, dict) or "generator" not in saved or "config" not in saved:
        raise ValueError(f"{path}: expected a dict with 'generator' and 'config' (written by hmogbench train)")
    cfg = TrainConfig.from_dict(saved["config"], source=str(path))
    G = build_generator(cfg.spec, cfg.image_size, cfg.channels, cfg.z_dim, megan_tau=cfg.megan_tau)
    G.load_state_dict(saved["generator"])
    return G.to(device).eval(), cfg


def draw_z(count: int, z_dim: int, seed: int) -> torch.Tensor:
    """(count, z_dim) standard normal z from a CPU generator seeded with ``seed``."""
    return torch.randn(count, z_dim, generator=torch.Generator().manual_seed(seed))


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """Model output (B, C, H, W) in [-1, 1] -> uint8 (B, H, W, C), rounded to the nearest level."""
    pixels = ((x.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return pixels.permute(0, 2, 3, 1).cpu().numpy()


@torch.no_grad()
def sample_images(G: nn.Module, count: int, seed: int, batch_size: int = 100,
                  device: str | torch.device = "cpu", progress: bool = False) -> np.ndarray:
    """``count`` samples of G as uint8 (count, H, W, C), in batches of ``batch_size`` (thesis: 100).

    Any randomness inside G (MEGAN's Gumbel choice) comes from torch's RNG seeded with ``seed``
    for the duration of the call; the caller's RNG state is restored afterwards."""
    from tqdm.auto import tqdm

    z = draw_z(count, G.z_dim, seed)
    devices = [torch.device(device)] if torch.device(device).type == "cuda" else []
    out = []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        for start in tqdm(range(0, count, batch_size), disable=not progress, desc="sampling", unit="batch"):
            out.append(to_uint8(G(z[start : start + batch_size].to(device))))
    return np.concatenate(out) if out else np.zeros((0,), np.uint8)
