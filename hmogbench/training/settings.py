"""What the loop needs beyond models and objective (``LoopSettings``), and how an image run's config gives it."""

from __future__ import annotations

from dataclasses import dataclass

from .config import TrainConfig


@dataclass
class LoopSettings:
    """Steps are generator steps; Adam (amsgrad, betas (0.5, 0.999), lr 1e-4 by default) for G and for D."""

    steps: int
    batch_size: int
    seed: int
    lr_g: float = 1e-4
    lr_d: float = 1e-4
    betas: tuple[float, float] = (0.5, 0.999)
    amsgrad: bool = True
    checkpoint_every: int = 500
    log_every: int = 10
    device: str = "cpu"
    progress_every: int = 100  # without a bar: G steps between progress lines (hmogbench.training.progress)


def loop_settings(cfg: TrainConfig) -> LoopSettings:
    """The loop's settings of the image run ``cfg``."""
    return LoopSettings(
        steps=cfg.resolved_steps, batch_size=cfg.batch_size, seed=cfg.seed, lr_g=cfg.lr, lr_d=cfg.lr_d or cfg.lr,
        betas=cfg.betas, amsgrad=cfg.amsgrad, checkpoint_every=cfg.checkpoint_every, log_every=cfg.log_every,
        device=cfg.device, progress_every=cfg.progress_every,
    )
