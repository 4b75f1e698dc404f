"""A batched group: several seeds of one configuration trained as one ``StackedRuns`` in one loop.

Why it is the same experiment as each seed alone:
- Initial weights: each seed's G and D are built exactly as ``build_models`` builds them (seed, then build),
  then stacked.
- Random numbers: each seed draws its real batches from its own ``EpochSampler`` and its z and gradient-
  penalty weights from its own generator, which continues the global RNG from the state it had right after
  that seed's models were built (``random_state.noise_generator``): the very numbers the seed draws when
  trained alone, in the same order.
- Files: every seed's checkpoint.pt, losses.csv, run.json and generator.pt have the layout of a run alone.
(``training.stacked`` says how the stacking itself keeps each seed's gradients and optimiser.)

What is not batched (``batching_unsupported``): models with BatchNorm (MADGAN, MGAN, MEGAN; a running
statistic is updated in place, which vmap cannot batch per run), and objectives that call more of G than
its forward or draw random numbers inside G (MADGAN, MGAN, MEGAN's Gumbel noise and auxiliary step). For
those, ``training.seeds.train_seeds`` trains the seeds one after the other and says why in run.json.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import torch

from ..models.generator import build_discriminator, build_generator
from ..runtime.device import resolve_device
from .build import build_models, check_training_data
from .config import TrainConfig
from .loop import train_runs
from .objectives import objective_of
from .random_state import RunSetup, noise_generator
from .settings import loop_settings
from .stacked import StackedRuns, batch_norm_in

MODES = ("auto", "vmap", "loop")


def resolve_mode(mode: str, device: str | torch.device, compile_mode: str | None = None) -> str:
    """'auto' -> 'vmap' on CUDA (speed) or when compiling, else 'loop' on the CPU (bit-identical to seeds
    trained alone)."""
    if mode not in MODES:
        raise ValueError(f"batch mode must be one of {MODES}, got {mode!r}")
    if mode == "auto":
        return "vmap" if resolve_device(device).type == "cuda" or compile_mode is not None else "loop"
    return mode


def batching_unsupported(cfg: TrainConfig) -> str | None:
    """Why the seeds of ``cfg`` cannot train as one batched model, or None if they can: its objective (which
    a config may choose), its family (``families.Family.unbatchable``), then BatchNorm anywhere in the built
    G and D (``d_norm: batch`` puts it into any family's D)."""
    objective = objective_of(cfg)
    if not objective.batchable:
        return (f"objective {objective.name!r} is not batchable (it calls more of G than its forward or draws "
                "random numbers inside G); the seeds train one by one")
    if cfg.spec.entry.unbatchable is not None:
        return cfg.spec.entry.unbatchable
    with torch.device("meta"):  # structure only, no memory
        G = build_generator(cfg.spec, cfg.image_size, cfg.channels, cfg.z_dim, megan_tau=cfg.megan_tau)
        D = build_discriminator(cfg.spec, cfg.image_size, cfg.channels, norm=cfg.d_norm)
    for name, module in (("generator", G), ("discriminator", D)):
        if batch_norm_in(module):
            return (f"the {name} of {cfg.model} uses BatchNorm, whose running statistics vmap cannot update per "
                    "seed; the seeds train one by one")
    return None


def train_group(
    cfgs: list[TrainConfig], data: torch.Tensor, out_dirs: list[str | Path], progress: bool = True,
    on_step: Callable[[int], None] | None = None, stop_at: int | None = None, mode: str = "auto",
    compile_mode: str | None = None, data_record: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Train the runs ``cfgs`` (configurations that differ in their seed only) as one batched model, each
    into its directory; resumes when all of them have a checkpoint at one step. Returns their run.json.
    ``data_record``: each run.json's "data" (``data.images.training_data``)."""
    if not cfgs or len(cfgs) != len(out_dirs):
        raise ValueError(f"need one output directory per configuration, got {len(cfgs)} and {len(out_dirs)}")
    reference = {**cfgs[0].to_dict(), "seed": None}
    for cfg in cfgs[1:]:
        if {**cfg.to_dict(), "seed": None} != reference:
            raise ValueError("a batched group's configurations may differ in their seed only")
    if len({cfg.seed for cfg in cfgs}) != len(cfgs):
        raise ValueError("a batched group's seeds must be distinct")
    reason = batching_unsupported(cfgs[0])
    if reason is not None:
        raise ValueError(reason)
    check_training_data(cfgs[0], data)
    mode = resolve_mode(mode, cfgs[0].device, compile_mode)
    seeds = [cfg.seed for cfg in cfgs]
    record = {"batched": True, "seeds": seeds, "mode": mode, "compile": compile_mode}
    Gs, Ds, runs = [], [], []
    for cfg, out_dir in zip(cfgs, out_dirs):
        G, D, objective = build_models(cfg)  # as a run alone: seed, then build
        noise, rng = noise_generator(cfg.device)  # the global RNG's stream from here on, as the run alone
        Gs.append(G)
        Ds.append(D)
        runs.append(RunSetup(Path(out_dir), cfg.to_dict(), cfg.seed, noise=noise, rng=rng, batch=record,
                             data=data_record))
    models = StackedRuns(Gs, Ds, mode=mode, compile_mode=compile_mode)
    del Gs, Ds
    return train_runs(models, objective, data, runs, loop_settings(cfgs[0]), progress=progress, on_step=on_step,
                      stop_at=stop_at)
