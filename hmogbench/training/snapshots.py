"""Generator snapshots during training, for FD over training (TrainConfig ``eval_every``).

With ``eval_every`` = E set, the loop writes ``<run>/snapshots/step<N>.pt`` after every E-th generator step and
after the last one (N = the run's ``steps``, even where E does not divide it): the generator's state dict, the
run's config, the step and the training precision, the layout of generator.pt (``generator_file``;
``sampling.load_generator`` reads either), written atomically. One snapshot costs what generator.pt costs (the
discriminator and the optimisers stay out: 3 to 11 MB per MNIST model, 4.3 MB for FC). Unset (None, the default)
writes none. A resumed run keeps the snapshots it has; the steps it replays after its last checkpoint rewrite
theirs (the same weights on the CPU). ``hmogbench evaluate --over-training-out`` scores them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch

from ..runtime.provenance import torch_save_atomic
from .files import SNAPSHOTS
from .precision import RECORD_KEY
from .random_state import RunSetup
from .replicas import Replicas

SNAPSHOT_FILE = re.compile(r"step(\d+)\.pt")


def snapshot_path(run_dir: str | Path, step: int) -> Path:
    """``<run_dir>/snapshots/step<step>.pt``."""
    return Path(run_dir) / SNAPSHOTS / f"step{step}.pt"


def snapshot_files(run_dir: str | Path) -> list[tuple[int, Path]]:
    """Every snapshot of a run directory as (step, file), by step; [] without any."""
    folder = Path(run_dir) / SNAPSHOTS
    found = [(int(m.group(1)), p) for p in folder.glob("step*.pt") if (m := SNAPSHOT_FILE.fullmatch(p.name))]
    return sorted(found)


def snapshot_due(step: int, every: int | None, steps: int) -> bool:
    """Whether generator step ``step`` of a ``steps``-step run gets a snapshot (``every``: eval_every, None: off)."""
    return every is not None and (step % every == 0 or step == steps)


def eval_every(runs: list[RunSetup]) -> int | None:
    """The ``eval_every`` of a loop's runs (one config but the seed); None for runs without it (toy runs)."""
    return runs[0].config.get("eval_every")


def generator_file(g_state: dict[str, torch.Tensor], run: RunSetup, step: int, precision: str) -> dict[str, Any]:
    """What generator.pt and a snapshot hold: G's state dict, the run's config, the step and the training precision
    that ran (``precision.resolve``)."""
    return {"generator": g_state, "config": run.config, "step": step, RECORD_KEY: precision}


def write_snapshots(step: int, models: Replicas, runs: list[RunSetup], precision: str) -> None:
    """Every run's generator at ``step`` into its ``snapshot_path`` (atomically); ``precision``: what ran."""
    for run, (g_state, _) in zip(runs, models.state_dicts()):
        torch_save_atomic(generator_file(g_state, run, step, precision), snapshot_path(run.out_dir, step))
