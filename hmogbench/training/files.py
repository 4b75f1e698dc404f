"""The files of a run directory, and where each seed's run lives in a multi-seed output folder.

  checkpoint.pt  latest state (models, optimisers, data order, RNG states), written atomically every
                 ``checkpoint_every`` G steps, at the end and when a signal stops the run; a re-run resumes from
                 it and, on the CPU, ends bit-identical to an uninterrupted run (``training.checkpoints``).
  losses.csv     one row every ``log_every`` G steps (unset: ``training.settings.log_interval``; ``training.loss_log``).
  run.json       provenance (config, seed, git commit, versions, device, times), status and how the run was
                 trained (``training.records``).
  generator.pt   the final generator (state dict + config), written when the run completes.
  samples.png    image runs, at every checkpoint: 8 x 8 samples of G for a fixed z (``hmogbench.training.progress_images``).
  snapshots/     with TrainConfig ``eval_every`` set: step<N>.pt, the generator alone (as generator.pt holds it) every
                 ``eval_every`` G steps and at the end, for FD over training (``hmogbench.training.snapshots``).
"""

from __future__ import annotations

from pathlib import Path

import torch

CHECKPOINT = "checkpoint.pt"
LOSSES = "losses.csv"
RUN_INFO = "run.json"
GENERATOR = "generator.pt"
SNAPSHOTS = "snapshots"  # folder of the generator snapshots (``training.snapshots``)


def seed_dir(out_root: str | Path, seed: int) -> Path:
    """Run directory of one seed inside a multi-seed output folder: ``<out_root>/seed<seed>``."""
    return Path(out_root) / f"seed{seed}"


def checkpoint_step(run_dir: str | Path) -> int:
    """The generator step of the checkpoint in ``run_dir`` (0 without one)."""
    path = Path(run_dir) / CHECKPOINT
    if not path.exists():
        return 0
    return int(torch.load(path, map_location="cpu", weights_only=False, mmap=True)["step"])
