"""A run's checkpoint.pt: what it holds, writing it atomically, and resuming from it with its checks.

A checkpoint holds the generator step, the config, G and D, the optimisers (G, D and the objective's auxiliary
one), the data order (``EpochSampler``) and the RNG states: everything the loop needs to continue as if never
stopped. A group's runs each have their own checkpoint in the layout of a plain run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..runtime.provenance import torch_save_atomic
from .files import CHECKPOINT
from .objectives import Objective
from .random_state import EpochSampler, RunSetup
from .replicas import Replicas, StateDicts
from .settings import LoopSettings

# config keys that may change between a run and its resumption
RESUMABLE_CHANGES = {"steps", "epochs", "checkpoint_every", "log_every", "progress_every", "device", "extra",
                     "samples_every_checkpoint", "eval_every"}
# config keys added later, and what a checkpoint without them had (its run resumes when the value is that one)
ABSENT_MEANS = {"train_precision": "fp32"}


class ResumeError(RuntimeError):
    """The checkpoint in the run directory belongs to a different configuration."""


@dataclass
class Optimizers:
    """Adam for G, for D and, if the objective has an auxiliary step, for its parameters (else None)."""

    g: torch.optim.Optimizer
    d: torch.optim.Optimizer
    aux: torch.optim.Optimizer | None

    @classmethod
    def build(cls, models: Replicas, objective: Objective, settings: LoopSettings) -> "Optimizers":
        def adam(params: list[torch.Tensor], lr: float) -> torch.optim.Optimizer:
            return torch.optim.Adam(params, lr=lr, betas=settings.betas, amsgrad=settings.amsgrad)

        aux_params = models.aux_parameters(objective)
        return cls(adam(models.g_parameters(), settings.lr_g), adam(models.d_parameters(), settings.lr_d),
                   adam(aux_params, settings.lr_g) if aux_params else None)

    def named(self) -> dict[str, torch.optim.Optimizer | None]:
        """{checkpoint key: optimiser}."""
        return {"opt_g": self.g, "opt_d": self.d, "opt_aux": self.aux}


def write_checkpoints(step: int, models: Replicas, optimizers: Optimizers, samplers: list[EpochSampler],
                      runs: list[RunSetup], device: torch.device) -> StateDicts:
    """Each run's checkpoint.pt at generator ``step`` (atomically: temp file, then rename); returns the runs'
    (G, D) state dicts it wrote."""
    states = models.state_dicts()
    per_run_opts = {key: models.split_optimizer_state(opt.state_dict()) if opt is not None else [None] * len(runs)
                    for key, opt in optimizers.named().items()}
    for i, run in enumerate(runs):
        torch_save_atomic({"step": step, "config": run.config, "generator": states[i][0],
                           "discriminator": states[i][1], **{key: opts[i] for key, opts in per_run_opts.items()},
                           "sampler": samplers[i].state_dict(), "rng": run.rng_state(device)},
                          run.out_dir / CHECKPOINT)
    return states


def _config_differences(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    keys = (set(saved) | set(current)) - RESUMABLE_CHANGES
    return sorted(k for k in keys if saved.get(k, ABSENT_MEANS.get(k)) != current.get(k, ABSENT_MEANS.get(k)))


def read_checkpoints(runs: list[RunSetup], steps: int) -> list[dict[str, Any]] | None:
    """The runs' checkpoints (on the CPU), checked against their configs and ``steps``; None if no run has one."""
    paths = [run.out_dir / CHECKPOINT for run in runs]
    present = [p.exists() for p in paths]
    if not any(present):
        return None
    if not all(present):
        raise ResumeError("some runs of this group have a checkpoint and others not: "
                          f"{[str(p) for p, here in zip(paths, present) if here]}; resume them apart")
    ckpts = [torch.load(p, map_location="cpu", weights_only=False) for p in paths]  # RNG states stay on the CPU
    for path, ckpt, run in zip(paths, ckpts, runs):
        _check_resumable(path, ckpt, run.config, steps)
    if len({c["step"] for c in ckpts}) > 1:
        raise ResumeError(f"the runs of a group must be at one step to resume together, got "
                          f"{[c['step'] for c in ckpts]} (train_seeds brings them level)")
    return ckpts


def _check_resumable(path: Path, ckpt: dict[str, Any], config: dict[str, Any], steps: int) -> None:
    diff = _config_differences(ckpt["config"], config)
    if diff:
        raise ResumeError(f"{path} was written by a run with a different configuration (keys {diff}); "
                          "use a new output directory or delete the checkpoint")
    if ckpt["step"] > steps:
        raise ResumeError(f"{path} is at generator step {ckpt['step']}, beyond the {steps} steps asked for; "
                          "use a new output directory or ask for at least as many steps")


def load_checkpoints(ckpts: list[dict[str, Any]], models: Replicas, optimizers: Optimizers,
                     samplers: list[EpochSampler], runs: list[RunSetup], device: torch.device) -> int:
    """Restore models, optimisers, samplers and RNG states from ``read_checkpoints``; returns their step."""
    models.load_state_dicts([(c["generator"], c["discriminator"]) for c in ckpts])
    for key, opt in optimizers.named().items():
        if opt is not None:
            opt.load_state_dict(models.merge_optimizer_states([c[key] for c in ckpts]))
    for sampler, run, ckpt in zip(samplers, runs, ckpts):
        sampler.load_state_dict(ckpt["sampler"])
        run.set_rng_state(ckpt["rng"], device)
    return ckpts[0]["step"]
