"""The one training loop, shared by every model and objective (image and toy runs).

Per generator step: ``objective.d_steps`` discriminator steps, each on a fresh real batch and
fresh z; then one G step on fresh z with D frozen; then the objective's optional auxiliary step.
Adam (amsgrad, betas (0.5, 0.999), lr 1e-4 by default) for G and for D.

A run directory holds:
  checkpoint.pt  latest state (models, optimisers, data order, RNG states), written atomically
                 every ``checkpoint_every`` G steps and at the end; a re-run resumes from it and,
                 on CPU, ends bit-identical to an uninterrupted run.
  losses.csv     one row every ``log_every`` G steps.
  run.json       provenance (config, seed, git commit, versions, device, times) and status.
  generator.pt   the final generator (state dict + config), written when the run completes.
"""

from __future__ import annotations

import csv
import io
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from .config import TrainConfig
from .images import to_model_range
from .models.generator import build_discriminator, build_generator
from .objectives import Objective, build_objective
from .provenance import provenance, torch_save_atomic, utc_now, write_json_atomic, write_text_atomic

CHECKPOINT = "checkpoint.pt"
LOSSES = "losses.csv"
RUN_INFO = "run.json"
GENERATOR = "generator.pt"
# config keys that may change between a run and its resumption
RESUMABLE_CHANGES = {"steps", "epochs", "checkpoint_every", "log_every", "device", "extra"}


class NonFiniteLossError(RuntimeError):
    """A loss became NaN or infinite; the run stops before writing a checkpoint of that state."""


class ResumeError(RuntimeError):
    """The checkpoint in the run directory belongs to a different configuration."""


@dataclass
class LoopSettings:
    """What the loop needs beyond models and objective. Steps are generator steps."""

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


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA), as the authors' scripts did."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class EpochSampler:
    """Indices of real batches: a fresh random permutation per pass over the data, last partial
    batch dropped (the authors' loops only use full batches). Own RNG, so it is checkpointable."""

    def __init__(self, num_items: int, batch_size: int, seed: int):
        if num_items < batch_size:
            raise ValueError(f"the data has {num_items} items, fewer than one batch of {batch_size}")
        self.num_items, self.batch_size = num_items, batch_size
        self.rng = torch.Generator().manual_seed(seed)
        self.epoch, self.position = 0, 0
        self.order = torch.randperm(num_items, generator=self.rng)

    def next(self) -> torch.Tensor:
        if self.position + self.batch_size > self.num_items:
            self.order = torch.randperm(self.num_items, generator=self.rng)
            self.epoch, self.position = self.epoch + 1, 0
        batch = self.order[self.position : self.position + self.batch_size]
        self.position += self.batch_size
        return batch

    def state_dict(self) -> dict[str, Any]:
        return {"rng": self.rng.get_state(), "epoch": self.epoch, "position": self.position, "order": self.order}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.set_state(state["rng"])
        self.epoch, self.position, self.order = state["epoch"], state["position"], state["order"]


def _rng_state(device: torch.device) -> dict[str, Any]:
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def _set_rng_state(state: dict[str, Any], device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def _check_finite(values: dict[str, float], step: int, phase: str) -> None:
    for name, value in values.items():
        if not math.isfinite(value):
            raise NonFiniteLossError(
                f"{phase} {name} is {value} at generator step {step}; stopping before this state is checkpointed"
            )


def _config_differences(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    keys = (set(saved) | set(current)) - RESUMABLE_CHANGES
    return sorted(k for k in keys if saved.get(k) != current.get(k))


def _truncate_csv(path: Path, last_step: int) -> None:
    """Drop rows logged after ``last_step`` (written before a kill, redone after resume)."""
    if not path.exists():
        return
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        return
    kept = [rows[0]] + [r for r in rows[1:] if r and int(r[0]) <= last_step]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(kept)
    write_text_atomic(path, buf.getvalue())


def train_gan(
    G: nn.Module,
    D: nn.Module,
    objective: Objective,
    data: torch.Tensor,
    out_dir: str | Path,
    settings: LoopSettings,
    config: dict[str, Any],
    progress: bool = True,
    on_step: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Train G and D on ``data`` (N, ...) with ``objective``; resume from ``out_dir`` if possible.

    The caller seeds (``seed_everything``) before building G and D so the initial weights are
    reproducible. ``config`` is recorded in every checkpoint and in run.json; a resumed run must
    have the same config up to ``RESUMABLE_CHANGES``. ``on_step(step)`` runs after each completed
    G step (and its checkpoint); tests use it to simulate a kill. Returns run.json's content.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    device = torch.device(settings.device)
    G.to(device)
    D.to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=settings.lr_g, betas=settings.betas, amsgrad=settings.amsgrad)
    opt_d = torch.optim.Adam(D.parameters(), lr=settings.lr_d, betas=settings.betas, amsgrad=settings.amsgrad)
    aux_params = objective.aux_parameters(G)
    opt_aux = (
        torch.optim.Adam(aux_params, lr=settings.lr_g, betas=settings.betas, amsgrad=settings.amsgrad)
        if aux_params else None
    )
    sampler = EpochSampler(len(data), settings.batch_size, settings.seed)

    ckpt_path, csv_path, info_path = out_dir / CHECKPOINT, out_dir / LOSSES, out_dir / RUN_INFO
    step = 0
    info = provenance(config, device)
    info.update(status="running", steps_done=0, resumed_from=None)
    if ckpt_path.exists():
        ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=False)  # RNG states must stay on the CPU
        diff = _config_differences(ckpt["config"], config)
        if diff:
            raise ResumeError(
                f"{ckpt_path} was written by a run with a different configuration (keys {diff}); "
                "use a new output directory or delete the checkpoint"
            )
        if ckpt["step"] > settings.steps:
            raise ResumeError(
                f"{ckpt_path} is at generator step {ckpt['step']}, beyond the {settings.steps} steps asked for; "
                "use a new output directory or ask for at least as many steps"
            )
        G.load_state_dict(ckpt["generator"])
        D.load_state_dict(ckpt["discriminator"])
        opt_g.load_state_dict(ckpt["opt_g"])
        opt_d.load_state_dict(ckpt["opt_d"])
        if opt_aux is not None:
            opt_aux.load_state_dict(ckpt["opt_aux"])
        sampler.load_state_dict(ckpt["sampler"])
        _set_rng_state(ckpt["rng"], device)
        step = ckpt["step"]
        info["resumed_from"] = step
        _truncate_csv(csv_path, step)
    else:
        csv_path.unlink(missing_ok=True)  # a fresh run: losses of an earlier, checkpoint-less run are stale

    def save_checkpoint() -> None:
        torch_save_atomic(
            {
                "step": step,
                "config": config,
                "generator": G.state_dict(),
                "discriminator": D.state_dict(),
                "opt_g": opt_g.state_dict(),
                "opt_d": opt_d.state_dict(),
                "opt_aux": opt_aux.state_dict() if opt_aux is not None else None,
                "sampler": sampler.state_dict(),
                "rng": _rng_state(device),
            },
            ckpt_path,
        )

    write_json_atomic(info_path, info)
    G.train()
    D.train()
    d_params = list(D.parameters())
    csv_file = csv_path.open("a", newline="")
    writer, header = csv.writer(csv_file, lineterminator="\n"), csv_path.stat().st_size > 0
    started = time.time()
    bar = tqdm(total=settings.steps, initial=step, disable=not progress, unit="step", desc=out_dir.name,
               dynamic_ncols=True)
    try:
        while step < settings.steps:
            for p in d_params:
                p.requires_grad_(True)
            for _ in range(objective.d_steps):
                real = to_model_range(data[sampler.next()]).to(device, non_blocking=True)
                z = torch.randn(objective.fake_batch(settings.batch_size), G.z_dim, device=device)
                d_out = objective.d_loss(G, D, real, z)
                opt_d.zero_grad(set_to_none=True)
                d_out["loss"].backward()
                opt_d.step()
            d_vals = {k: v.item() for k, v in d_out.items()}
            _check_finite(d_vals, step + 1, "discriminator")

            for p in d_params:
                p.requires_grad_(False)
            z = torch.randn(objective.fake_batch(settings.batch_size), G.z_dim, device=device)
            g_out = objective.g_loss(G, D, z)
            opt_g.zero_grad(set_to_none=True)
            g_out["loss"].backward()
            g_vals = {k: v.item() for k, v in g_out.items()}
            _check_finite(g_vals, step + 1, "generator")
            opt_g.step()
            aux_vals: dict[str, float] = {}
            if opt_aux is not None:
                aux_out = objective.aux_loss(G, z)
                opt_aux.zero_grad(set_to_none=True)
                aux_out["loss"].backward()
                aux_vals = {k: v.item() for k, v in aux_out.items()}
                _check_finite(aux_vals, step + 1, "auxiliary")
                opt_aux.step()
            step += 1

            if step % settings.log_every == 0 or step == settings.steps:
                row = {"step": step, **{f"d_{k}": v for k, v in d_vals.items()},
                       **{f"g_{k}": v for k, v in g_vals.items()}, **{f"aux_{k}": v for k, v in aux_vals.items()}}
                if not header:
                    writer.writerow(row.keys())
                    header = True
                writer.writerow([f"{v:.6g}" if isinstance(v, float) else v for v in row.values()])
                csv_file.flush()
                bar.set_postfix(d=f"{d_vals['loss']:.4g}", g=f"{g_vals['loss']:.4g}", refresh=False)
            if step % settings.checkpoint_every == 0 or step == settings.steps:
                save_checkpoint()
            bar.update(1)
            if on_step is not None:
                on_step(step)
    except NonFiniteLossError as exc:
        info.update(status="failed", error=str(exc), steps_done=step)
        write_json_atomic(info_path, info)
        raise
    finally:
        bar.close()
        csv_file.close()

    torch_save_atomic({"generator": G.state_dict(), "config": config, "step": step}, out_dir / GENERATOR)
    info.update(status="complete", steps_done=step, seconds_this_session=round(time.time() - started, 3),
                finished_utc=utc_now())
    write_json_atomic(info_path, info)
    return info


def build_models(cfg: TrainConfig) -> tuple[nn.Module, nn.Module, Objective]:
    """Seed with ``cfg.seed``, then build G, D and the objective of ``cfg`` (weights reproducible)."""
    seed_everything(cfg.seed)
    spec = cfg.spec
    G = build_generator(spec, cfg.image_size, cfg.channels, cfg.z_dim, megan_tau=cfg.megan_tau)
    D = build_discriminator(spec, cfg.image_size, cfg.channels, norm=cfg.d_norm)
    objective = build_objective(
        cfg.resolved_objective, cfg.resolved_d_steps, spec.num_generators, cfg.gp_lambda, cfg.gp_norm,
        cfg.mgan_beta, cfg.megan_balance_weight,
    )
    return G, D, objective


def train_from_config(
    cfg: TrainConfig, data: torch.Tensor, out_dir: str | Path, progress: bool = True,
    on_step: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Train the image model of ``cfg`` on ``data`` (N, C, H, W) uint8 or float in [-1, 1]."""
    expected = (cfg.channels, cfg.image_size, cfg.image_size)
    if data.dim() != 4 or tuple(data.shape[1:]) != expected:
        raise ValueError(f"training data has shape {tuple(data.shape)}; config expects (N, {', '.join(map(str, expected))})")
    G, D, objective = build_models(cfg)
    settings = LoopSettings(
        steps=cfg.resolved_steps, batch_size=cfg.batch_size, seed=cfg.seed, lr_g=cfg.lr, lr_d=cfg.lr_d or cfg.lr,
        betas=cfg.betas, amsgrad=cfg.amsgrad, checkpoint_every=cfg.checkpoint_every, log_every=cfg.log_every,
        device=cfg.device,
    )
    return train_gan(G, D, objective, data, out_dir, settings, cfg.to_dict(), progress=progress, on_step=on_step)


def seed_dir(out_root: str | Path, seed: int) -> Path:
    """Run directory of one seed inside a multi-seed output folder: ``<out_root>/seed<seed>``."""
    return Path(out_root) / f"seed{seed}"


def train_seeds(
    cfg: TrainConfig, seeds: list[int], data: torch.Tensor, out_root: str | Path, progress: bool = True,
) -> list[dict[str, Any]]:
    """Train ``cfg`` once per seed into ``<out_root>/seed<seed>/``, one after the other; each run
    resumes from its own checkpoint. Returns the run.json content of each seed, in order."""
    import dataclasses

    if len(set(seeds)) != len(seeds) or not seeds:
        raise ValueError(f"seeds must be distinct and at least one, got {seeds}")
    return [train_from_config(dataclasses.replace(cfg, seed=s), data, seed_dir(out_root, s), progress=progress)
            for s in seeds]
