"""How training goes, without an extra step: each run's ``samples.png`` at every checkpoint, and TensorBoard.

At every checkpoint (``checkpoint_every`` G steps and at the end) an image run writes ``samples.png`` beside
its checkpoint: an 8 x 8 grid of G's output for a fixed z (64 z drawn from a CPU generator seeded with the
run's seed, ``sampling.draw_z``, so the grids of one run are comparable over its checkpoints), drawn in eval
mode without gradients by a separate copy of the run's generator loaded from the state its checkpoint saves.
Training is untouched: the training models are not called, and every RNG (CPU and the training device) is
forked around the drawing (MEGAN's Gumbel choice inside G draws from torch's RNG, seeded with the run's seed
as in ``sampling.sample_images``). ``TrainConfig.samples_every_checkpoint = False`` switches the file off.

TensorBoard (optional, ``hmogbench train --tensorboard DIR``; needs the ``tensorboard`` package): inside
``with tensorboard(DIR):`` every run also writes to ``DIR/<run directory's name>`` the rows of its losses.csv
as scalars and its samples grid per checkpoint as the image "samples". Toy runs (no TrainConfig) write neither.
"""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

SAMPLES = "samples.png"
GRID = 8  # an 8 x 8 grid: 64 fixed z per run
TENSORBOARD_MISSING = "--tensorboard needs the tensorboard package: pip install tensorboard"

_tensorboard_dir: Path | None = None


def summary_writer_class() -> type:
    """``torch.utils.tensorboard.SummaryWriter``; a RuntimeError with ``TENSORBOARD_MISSING`` without the package."""
    try:
        import tensorboard  # noqa: F401  (torch.utils.tensorboard needs it)
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise RuntimeError(TENSORBOARD_MISSING) from None
    return SummaryWriter


@contextlib.contextmanager
def tensorboard(log_dir: str | Path | None) -> Iterator[None]:
    """Within the block, training runs also write TensorBoard logs under ``log_dir`` (None: no logs)."""
    global _tensorboard_dir
    if log_dir is not None:
        summary_writer_class()  # fail before training, not at its first checkpoint
    previous, _tensorboard_dir = _tensorboard_dir, None if log_dir is None else Path(log_dir)
    try:
        yield
    finally:
        _tensorboard_dir = previous


def _image_config(config: dict[str, Any]):
    """The TrainConfig recorded as ``config`` (exactly its keys), or None (a toy run, or another loop user)."""
    from .config import ConfigError, TrainConfig

    if set(config) != {f.name for f in dataclasses.fields(TrainConfig)}:
        return None
    try:
        return TrainConfig.from_dict(config)
    except ConfigError:
        return None


def samples_grid(G: torch.nn.Module, seed: int, device: torch.device) -> np.ndarray:
    """G's 64 samples of the fixed z of ``seed`` as one uint8 (H, W, C) 8 x 8 mosaic. Leaves every RNG and
    G's mode as they were."""
    from ..data.images import mosaic
    from .sampling import sample_images

    was_training = G.training
    G.eval()
    try:  # sample_images: z from a CPU generator; no_grad; torch's RNG forked (CPU, and ``device`` on CUDA)
        images = sample_images(G, GRID * GRID, seed, batch_size=GRID * GRID, device=device)
    finally:
        G.train(was_training)
    return mosaic(images, GRID)


def write_png(path: str | Path, image: np.ndarray) -> None:
    """uint8 (H, W, 1 or 3) -> a PNG at ``path``, written atomically."""
    from PIL import Image

    from ..runtime.provenance import atomic_path

    with atomic_path(path) as tmp:
        Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(tmp, format="PNG")


class ProgressImages:
    """The loop's progress output for its runs (``RunSetup``s): ``scalars`` per losses.csv row and
    ``checkpoint`` with each run's generator state at every checkpoint; ``close`` at the end."""

    def __init__(self, runs: list[Any], device: torch.device, step: int = 0):
        self.runs, self.device = runs, torch.device(device)
        self.cfgs = [_image_config(run.config) for run in runs]
        self.files = [cfg is not None and cfg.samples_every_checkpoint for cfg in self.cfgs]
        self.writers = [None] * len(runs)
        if _tensorboard_dir is not None:
            writer = summary_writer_class()
            self.writers = [writer(str(_tensorboard_dir / run.out_dir.name), purge_step=step) if cfg is not None
                            else None for run, cfg in zip(runs, self.cfgs)]  # purge_step: a resumed run's stale events
        self._generators: list[torch.nn.Module | None] = [None] * len(runs)

    def scalars(self, run: int, row: dict[str, Any]) -> None:
        """One losses.csv row (``step`` and the loss columns) of run ``run``."""
        if self.writers[run] is not None:
            for name, value in row.items():
                if name != "step":
                    self.writers[run].add_scalar(name, value, row["step"])

    def _generator(self, run: int, state: dict[str, torch.Tensor]) -> torch.nn.Module:
        if self._generators[run] is None:
            from ..models.generator import build_generator

            cfg = self.cfgs[run]
            devices = [self.device] if self.device.type == "cuda" else []
            with torch.random.fork_rng(devices=devices):  # its (discarded) initial weights draw random numbers
                G = build_generator(cfg.spec, cfg.image_size, cfg.channels, cfg.z_dim, megan_tau=cfg.megan_tau)
            self._generators[run] = G.to(self.device).eval()
        G = self._generators[run]
        G.load_state_dict(state)
        return G

    def checkpoint(self, step: int, g_states: list[dict[str, torch.Tensor]]) -> None:
        """Each run's samples grid from its generator state ``g_states[i]`` (the checkpoint's) at ``step``."""
        for i, (run, state) in enumerate(zip(self.runs, g_states)):
            if not (self.files[i] or self.writers[i] is not None):
                continue
            grid = samples_grid(self._generator(i, state), self.cfgs[i].seed, self.device)
            if self.files[i]:
                write_png(run.out_dir / SAMPLES, grid)
            if self.writers[i] is not None:
                self.writers[i].add_image("samples", grid, step, dataformats="HWC")
                self.writers[i].flush()

    def close(self) -> None:
        for writer in self.writers:
            if writer is not None:
                writer.close()
