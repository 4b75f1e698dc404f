"""What the loop needs beyond models and objective (``LoopSettings``), and how an image run's config gives it."""

from __future__ import annotations

from dataclasses import dataclass

from .config import TrainConfig

DEFAULT_LOG_EVERY = 10  # G steps between losses.csv rows when the config's log_every is None ...
MIN_LOG_ROWS = 10  # ... unless the run is shorter than MIN_LOG_ROWS × DEFAULT_LOG_EVERY: then about this many rows


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
    precision: str = "fp32"  # train_precision: 'fp32', 'tf32' or 'bf16' (hmogbench.training.precision)


def log_interval(steps: int, log_every: int | None) -> int:
    """G steps between losses.csv rows of a ``steps``-step run: ``log_every`` as set; None: DEFAULT_LOG_EVERY,
    shortened to steps // MIN_LOG_ROWS (at least 1) in a short run, so that its curves have points (3 steps: every
    step, 3 rows; 50 steps: every 5th, 10 rows; 23,250: every 10th). A number set is kept (benchmarks time
    their short runs at log_every 10)."""
    if log_every is not None:
        return log_every
    return max(1, min(DEFAULT_LOG_EVERY, steps // MIN_LOG_ROWS))


def loop_settings(cfg: TrainConfig) -> LoopSettings:
    """The loop's settings of the image run ``cfg`` (log_every as ``log_interval`` gives it)."""
    steps = cfg.resolved_steps
    return LoopSettings(
        steps=steps, batch_size=cfg.batch_size, seed=cfg.seed, lr_g=cfg.lr, lr_d=cfg.lr_d or cfg.lr,
        betas=cfg.betas, amsgrad=cfg.amsgrad, checkpoint_every=cfg.checkpoint_every,
        log_every=log_interval(steps, cfg.log_every), device=cfg.device, progress_every=cfg.progress_every,
        precision=cfg.train_precision,
    )
