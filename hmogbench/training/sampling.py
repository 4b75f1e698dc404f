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

from ..models.generator import Generator, build_generator
from .config import TrainConfig
from .files import GENERATOR
from .precision import RECORD_KEY, recorded


def generator_path(run: str | Path) -> Path:
    """A run directory or a generator file -> the generator file (``<run>/generator.pt``)."""
    path = Path(run)
    if path.is_dir():
        path = path / GENERATOR
    if not path.exists():
        raise FileNotFoundError(f"{path}: no trained generator here (a run writes {GENERATOR} when it completes)")
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


def to_unit_float(x: torch.Tensor) -> np.ndarray:
    """Model output (B, C, H, W) in [-1, 1] -> float32 (B, H, W, C) in [0, 1], ``x * 0.5 + 0.5`` unrounded: what
    the authors' evaluation fed the Inception network."""
    return (x.detach().float().clamp(-1, 1) * 0.5 + 0.5).permute(0, 2, 3, 1).cpu().numpy()


# how samples reach the feature networks: rounded to uint8 (as a saved image), or the float output (the authors')
FAKE_PIXELS = {"uint8": to_uint8, "float": to_unit_float}


def samples_record(run: str | Path, cfg: TrainConfig, images: np.ndarray, z_seed: int, config: dict,
                   device: str | torch.device, generator_sha256: str | None = None) -> dict:
    """The sidecar of ``images`` (count, H, W, C) drawn from ``run``: the generator file and its sha256, its
    TrainConfig, the steps it trained and in which precision (``precision.RECORD_KEY``: what ran; fp32 for older
    files), the count, z's seed, the shape, the pixels' type ('uint8' or 'float', ``FAKE_PIXELS``) and the
    provenance of ``config``.
    ``hmogbench sample`` writes it beside its .npy; ``hmogbench evaluate`` puts it in each metrics record.
    ``generator_sha256``: the generator file's, where the caller has it already (else it is computed)."""
    from ..runtime.provenance import file_digest, provenance

    path = generator_path(run)
    sha256 = generator_sha256 or file_digest(path, "sha256")
    saved = torch.load(path, map_location="cpu", weights_only=False)
    return {"generator": str(path), "generator_sha256": sha256, "config": cfg.to_dict(),
            "steps_trained": saved.get("step"), RECORD_KEY: recorded(saved),
            "count": int(len(images)), "z_seed": z_seed, "shape": list(images.shape),
            "pixels": "uint8" if images.dtype == np.uint8 else "float", "provenance": provenance(config, device)}


@torch.no_grad()
def sample_images(G: nn.Module, count: int, seed: int, batch_size: int = 100,
                  device: str | torch.device = "cpu", progress: bool = False, pixels: str = "uint8") -> np.ndarray:
    """``count`` samples of G as uint8 (count, H, W, C), in batches of ``batch_size`` (thesis: 100); with
    ``pixels='float'`` as float32 in [0, 1] instead (``FAKE_PIXELS``).

    Any randomness inside G (MEGAN's Gumbel choice) comes from torch's RNG seeded with ``seed``
    for the duration of the call; the caller's RNG state is restored afterwards."""
    from tqdm.auto import tqdm

    if pixels not in FAKE_PIXELS:
        raise ValueError(f"pixels must be one of {', '.join(FAKE_PIXELS)}, got {pixels!r}")
    z = draw_z(count, G.z_dim, seed)
    devices = [torch.device(device)] if torch.device(device).type == "cuda" else []
    out = []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        for start in tqdm(range(0, count, batch_size), disable=not progress, desc="sampling", unit="batch"):
            out.append(FAKE_PIXELS[pixels](G(z[start : start + batch_size].to(device))))
    return np.concatenate(out) if out else np.zeros((0,), np.uint8)
