"""The project's training loop as the workflow runs it, for the benchmarks: a config without checkpoints or
sample grids until the end, synthetic uint8 images on the device, and one run alone or a group of seeds.
The hmogbench training names the benchmarks time are imported here only."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Callable

import torch

FIRST_SEED = 2019


def channels_of(size: int) -> int:
    """Image channels of the thesis's sets at ``size`` px (``hmogbench.registry.datasets``: 1 at 32x32, the MNISTs; 3 at
    64x64, the colour sets): synthetic images of that size get them."""
    from hmogbench.registry.datasets import DATASETS

    found = {d.channels for d in DATASETS if d.in_thesis and d.image_size == size}
    if len(found) != 1:
        raise ValueError(f"image size {size}: the thesis's sets of that size have channels {sorted(found)}; "
                         "expected one value (sizes: "
                         f"{sorted({d.image_size for d in DATASETS if d.in_thesis})})")
    return found.pop()


def train_config(model: str, size: int, batch_size: int, steps: int | None, device: str, seed: int = FIRST_SEED,
                 precision: str = "fp32"):
    """A ``TrainConfig`` of ``model`` at ``size`` px in training precision ``precision`` (fp32 | tf32 | bf16):
    checkpoints and sample grids off until the last step."""
    from hmogbench.training.config import TrainConfig

    return TrainConfig(model=model, image_size=size, channels=channels_of(size), batch_size=batch_size,
                       steps=steps, checkpoint_every=10 ** 9, log_every=10, samples_every_checkpoint=False,
                       device=device, seed=seed, train_precision=precision)


def first_epoch_boundary(cfg) -> int:
    """The generator step that starts the second pass over ``training_images`` (its first real batch is drawn
    from a new order, moved to the device): every critic step draws one batch, the last partial batch dropped."""
    batches = len_training_images(cfg) // cfg.batch_size
    return batches // cfg.resolved_d_steps + 1


def len_training_images(cfg) -> int:
    """How many images ``training_images`` makes for ``cfg``: 40 batches, at least 512."""
    return max(40 * cfg.batch_size, 512)


def training_images(cfg, device: torch.device) -> torch.Tensor:
    """Random uint8 images (N, C, H, W) of ``cfg``'s shape, seed 0, on ``device``. N = 40 batches (at least 512):
    a new epoch (its order moved to the device) every 8 generator steps at 5 critic steps, as with a real set."""
    shape = (len_training_images(cfg), cfg.channels, cfg.image_size, cfg.image_size)
    return torch.randint(0, 256, shape, dtype=torch.uint8, generator=torch.Generator().manual_seed(0)).to(device)


def run_training(model: str, size: int, batch_size: int, steps: int, device: torch.device, seeds: int, mode: str,
                 on_step: Callable[[int], None], compile_mode: str | None = None, seed: int = FIRST_SEED,
                 out: str | Path | None = None, precision: str = "fp32") -> tuple[Any, dict]:
    """Train ``steps`` generator steps (``on_step`` after each) in a temporary folder (or ``out``): ``mode``
    'eager' is one run alone (``train_from_config``, the workflow's plain loop; ``seeds`` must be 1), 'vmap' or
    'loop' a group of ``seeds`` seeds (``train_group``), in training precision ``precision``. Returns the first
    run's config and its run.json record (what ran: its "train_precision")."""
    from hmogbench.training import seed_dir, train_from_config, train_group

    cfgs = [train_config(model, size, batch_size, steps, str(device), seed + i, precision) for i in range(seeds)]
    data = training_images(cfgs[0], device)
    with tempfile.TemporaryDirectory(prefix=f"bench-{model}-{mode}-") as tmp:
        folder = out or tmp
        if mode == "eager":
            if seeds != 1:
                raise ValueError(f"mode 'eager' trains one run, not {seeds} seeds")
            record = train_from_config(cfgs[0], data, folder, progress=False, on_step=on_step)
        else:
            record = train_group(cfgs, data, [seed_dir(folder, c.seed) for c in cfgs], progress=False,
                                 on_step=on_step, mode=mode, compile_mode=compile_mode)[0]
    return cfgs[0], record


def runs_per_hour(seeds: int, seconds_per_step: float, steps_per_run: int) -> float:
    """Runs finished per hour when a group of ``seeds`` runs takes ``seconds_per_step`` per generator step."""
    return 3600 * seeds / (seconds_per_step * steps_per_run)


def steps_per_run(cfg) -> int:
    """Generator steps of one run at the authors' length (``config.DEFAULT_STEPS`` of ``cfg``'s objective)."""
    from hmogbench.training.config import DEFAULT_STEPS

    return DEFAULT_STEPS[cfg.resolved_objective]
