"""All seeds of one configuration: batched together where possible, else one after the other.

The workflow's train job calls ``train_seeds``. Seeds whose checkpoints stand at different steps first catch
up in smaller groups; a NaN in a batched seed sends the seeds on one by one from their checkpoints.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable

import torch

from .build import check_training_data
from .config import TrainConfig
from .files import checkpoint_step, seed_dir
from .finite import NonFiniteLossError
from .groups import batching_unsupported, train_group
from .runs import train_from_config


def train_seeds(
    cfg: TrainConfig, seeds: list[int], data: torch.Tensor, out_root: str | Path, progress: bool = True,
    batch: bool = True, batch_mode: str = "auto", compile_mode: str | None = None,
    on_step: Callable[[int], None] | None = None, data_record: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Train ``cfg`` once per seed into ``<out_root>/seed<seed>/``. Returns each seed's run.json, in order.

    With ``batch`` (the default) and an objective and models that can be batched (``groups.
    batching_unsupported``: FC / ME / HME with WGAN-GP, not the BatchNorm competitors), the seeds train
    together as one batched model in this process (``groups.train_group``; ``batch_mode`` and
    ``compile_mode`` as there); otherwise, or with ``batch=False``, one after the other. Either way each
    seed's directory holds what a run of that seed alone writes, and run.json's "batch" records how it was
    trained (and why not batched). Re-running resumes: seeds whose checkpoints stand at different steps
    (a kill between two seeds' checkpoint writes, or seeds trained apart before) first train up to the
    next seed's step in smaller groups, then together. If a batched seed's loss turns NaN, the seeds go
    on one by one from their checkpoints, so the others finish; the first error is raised at the end.
    ``data_record``: each run.json's "data" (``data.images.training_data``)."""
    if len(set(seeds)) != len(seeds) or not seeds:
        raise ValueError(f"seeds must be distinct and at least one, got {seeds}")
    check_training_data(cfg, data)
    cfgs = [dataclasses.replace(cfg, seed=s) for s in seeds]
    if not batch:
        return _train_one_by_one(cfgs, data, out_root, progress, on_step, "batching switched off (--no-batch)",
                                 data_record)
    reason = batching_unsupported(cfg) if len(seeds) > 1 else "one seed: nothing to batch"
    if reason is not None:
        return _train_one_by_one(cfgs, data, out_root, progress, on_step, reason, data_record)
    try:
        while True:
            at = {c.seed: checkpoint_step(seed_dir(out_root, c.seed)) for c in cfgs}
            low = min(at.values())
            group = [c for c in cfgs if at[c.seed] == low]
            later = sorted(v for v in at.values() if v > low)
            infos = train_group(group, data, [seed_dir(out_root, c.seed) for c in group], progress=progress,
                                on_step=on_step, stop_at=later[0] if later else None, mode=batch_mode,
                                compile_mode=compile_mode, data_record=data_record)
            if not later:
                return infos
    except NonFiniteLossError as exc:
        return _train_one_by_one(cfgs, data, out_root, progress, on_step,
                                 f"a seed of the batched group failed ({exc}); the seeds went on one by one",
                                 data_record)


def _train_one_by_one(cfgs: list[TrainConfig], data: torch.Tensor, out_root: str | Path, progress: bool,
                      on_step: Callable[[int], None] | None, reason: str,
                      data_record: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Each seed alone, one after the other; a NaN in one seed does not stop the others (raised at the end)."""
    infos, errors = [], []
    for c in cfgs:
        try:
            infos.append(train_from_config(c, data, seed_dir(out_root, c.seed), progress=progress, on_step=on_step,
                                           batch={"batched": False, "reason": reason}, data_record=data_record))
        except NonFiniteLossError as exc:
            errors.append(exc)
    if errors:
        raise errors[0]
    return infos
