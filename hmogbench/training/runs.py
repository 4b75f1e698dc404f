"""One run: ``train_gan`` (models and objective given) and ``train_from_config`` (an image run's config)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from .build import build_models, check_training_data
from .config import TrainConfig
from .loop import train_runs
from .objectives import Objective
from .random_state import RunSetup
from .replicas import OneRun
from .settings import LoopSettings, loop_settings


def train_gan(
    G: nn.Module, D: nn.Module, objective: Objective, data: torch.Tensor, out_dir: str | Path,
    settings: LoopSettings, config: dict[str, Any], progress: bool = True,
    on_step: Callable[[int], None] | None = None, batch: dict[str, Any] | None = None,
    data_record: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train G and D on ``data`` (N, ...) with ``objective``; resume from ``out_dir`` if possible.

    The caller seeds (``seed_everything``) before building G and D so the initial weights are
    reproducible; z and the objective's random numbers come from the global RNG. ``config`` is recorded
    in every checkpoint and in run.json; a resumed run must have the same config up to
    ``checkpoints.RESUMABLE_CHANGES``. ``on_step(step)`` runs after each completed G step (and its
    checkpoint). ``batch``: run.json's record of how the run was trained (default: alone); ``data_record``:
    its "data", what ``data`` is (``data.verify.data_record``; None: not recorded). Returns run.json's content.
    """
    run = RunSetup(Path(out_dir), config, settings.seed, batch=batch, data=data_record)
    return train_runs(OneRun(G, D), objective, data, [run], settings, progress=progress, on_step=on_step)[0]


def train_from_config(
    cfg: TrainConfig, data: torch.Tensor, out_dir: str | Path, progress: bool = True,
    on_step: Callable[[int], None] | None = None, batch: dict[str, Any] | None = None,
    data_record: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train the image model of ``cfg`` on ``data`` (N, C, H, W) uint8 or float in [-1, 1]; ``data_record``:
    run.json's "data" (``data.images.training_data`` gives both)."""
    check_training_data(cfg, data)
    G, D, objective = build_models(cfg)
    return train_gan(G, D, objective, data, out_dir, loop_settings(cfg), cfg.to_dict(), progress=progress,
                     on_step=on_step, batch=batch, data_record=data_record)
