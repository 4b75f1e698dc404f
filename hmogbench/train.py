"""The one training loop, shared by every model and objective (image and toy runs).

Per generator step: ``objective.d_steps`` discriminator steps, each on a fresh real batch and
fresh z; then one G step on fresh z with D frozen; then the objective's optional auxiliary step.
Adam (amsgrad, betas (0.5, 0.999), lr 1e-4 by default) for G and for D.

``train_runs`` is the loop, for one run (``train_gan``) or for a group of seeds trained in lockstep as
one batched model (``batched.train_group``; ``train_seeds`` chooses). Every run of a group writes its own
directory, exactly as it would alone.

A run directory holds:
  checkpoint.pt  latest state (models, optimisers, data order, RNG states), written atomically
                 every ``checkpoint_every`` G steps and at the end; a re-run resumes from it and,
                 on CPU, ends bit-identical to an uninterrupted run.
  losses.csv     one row every ``log_every`` G steps.
  run.json       provenance (config, seed, git commit, versions, device, times), status, and "batch":
                 whether the run was trained batched with other seeds (which, how) or alone (why).
                 Rewritten at the start, at every checkpoint and at the end, so that it tells the truth
                 after any stop: "status" running / complete / paused / interrupted (a signal: SIGTERM
                 from SLURM's time limit or scancel, SIGUSR1; a checkpoint was written first) / failed
                 (an error) / stopped (with its batched group); "steps_done"; "last_checkpoint" (the step
                 of checkpoint.pt); "resumed_from"; "slurm_job_id" when run by SLURM. After a SIGKILL
                 (out of memory, the end of KillWait) it still says running, as of its last checkpoint.
  generator.pt   the final generator (state dict + config), written when the run completes.
  samples.png    image runs, at every checkpoint: 8 x 8 samples of G for a fixed z (hmogbench.progress_images).
"""

from __future__ import annotations

import csv
import io
import math
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from .config import TrainConfig
from .device import prepare_device
from .images import to_model_range
from .models.generator import build_discriminator, build_generator
from .objectives import Objective, build_objective
from .progress import TrainProgress
from .progress_images import ProgressImages
from .provenance import provenance, torch_save_atomic, utc_now, write_json_atomic, write_text_atomic
from .stop_signals import Interrupted, requested, signal_name

CHECKPOINT = "checkpoint.pt"
LOSSES = "losses.csv"
RUN_INFO = "run.json"
GENERATOR = "generator.pt"
# config keys that may change between a run and its resumption
RESUMABLE_CHANGES = {"steps", "epochs", "checkpoint_every", "log_every", "progress_every", "device", "extra",
                     "samples_every_checkpoint"}


class NonFiniteLossError(RuntimeError):
    """A loss became NaN or infinite; the run stops before writing a checkpoint of that state.
    ``run_index``: which run of a batched group (0 for a run alone)."""

    run_index = 0


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
    progress_every: int = 100  # without a bar: G steps between progress lines (hmogbench.progress)


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


class ModelPair:
    """The models the loop trains, as it drives them: G and D of ``size`` runs, and per-run values.

    This class is one run's plain G and D; ``hmogbench.batched.StackedPair`` implements the same methods
    for S runs stacked into one batched model. Arguments that differ per run are lists, one entry per run;
    ``apply`` returns every loss as a (size,) tensor, so that one ``loss.sum().backward()`` gives each run
    exactly its own gradients (runs share no parameters)."""

    size = 1

    def __init__(self, G: nn.Module, D: nn.Module):
        self.G, self.D = G, D

    @property
    def z_dim(self) -> int:
        return self.G.z_dim

    def to(self, device: torch.device) -> None:
        self.G.to(device)
        self.D.to(device)

    def train(self) -> None:
        self.G.train()
        self.D.train()

    def g_parameters(self) -> list[nn.Parameter]:
        return list(self.G.parameters())

    def d_parameters(self) -> list[nn.Parameter]:
        return list(self.D.parameters())

    def aux_parameters(self, objective: Objective) -> list[nn.Parameter]:
        return objective.aux_parameters(self.G)

    def apply(self, fn: Callable[..., dict[str, torch.Tensor]], *args: list[torch.Tensor],
              noise: list[dict[str, torch.Tensor]] | None = None) -> dict[str, torch.Tensor]:
        """``fn(G, D, *args, **noise)`` of every run -> {name: (size,) tensor}."""
        out = fn(self.G, self.D, *(a[0] for a in args), **(noise[0] if noise else {}))
        return {k: v.reshape(1) for k, v in out.items()}

    def state_dicts(self) -> list[tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]]:
        """(G state dict, D state dict) of every run, in the layout of one plain run."""
        return [(self.G.state_dict(), self.D.state_dict())]

    def load_state_dicts(self, states: list[tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]]) -> None:
        ((g, d),) = states
        self.G.load_state_dict(g)
        self.D.load_state_dict(d)

    def split_optimizer_state(self, state: dict[str, Any]) -> list[dict[str, Any]]:
        """An optimiser state dict over these models -> one per run, in the layout of one plain run."""
        return [state]

    def merge_optimizer_states(self, states: list[dict[str, Any]]) -> dict[str, Any]:
        """The inverse of ``split_optimizer_state``."""
        return states[0]


@dataclass
class RunSetup:
    """One run of the loop: where it writes, what it records, and where its random numbers come from."""

    out_dir: Path
    config: dict[str, Any]
    seed: int  # the EpochSampler's seed (data order)
    noise: torch.Generator | None = None  # z and the objective's d_noise; None: this process's global RNG
    rng: dict[str, Any] | None = None  # with ``noise``: the other RNG states its checkpoints record
    batch: dict[str, Any] | None = None  # run.json's record of how the run was trained (batched or not)

    def rng_state(self, device: torch.device) -> dict[str, Any]:
        """The checkpoint's "rng" entry, the same layout whether the noise comes from the global RNG or not:
        a run continues from it alone or in a batched group alike."""
        if self.noise is None:
            return _rng_state(device)
        return {**self.rng, _noise_key(self.noise): self.noise.get_state()}

    def set_rng_state(self, state: dict[str, Any], device: torch.device) -> None:
        if self.noise is None:
            _set_rng_state(state, device)
            return
        self.rng = dict(state)
        if _noise_key(self.noise) in state:  # as _set_rng_state: a CPU checkpoint resumed on a GPU keeps its stream
            self.noise.set_state(state[_noise_key(self.noise)])


def _noise_key(generator: torch.Generator) -> str:
    return "cuda" if generator.device.type == "cuda" else "torch"


def noise_generator(device: str | torch.device) -> tuple[torch.Generator, dict[str, Any]]:
    """A generator on ``device`` continuing the global RNG of ``device`` from its current state, and the
    global RNG states (the checkpoint's "rng" entry). Called right after a run's ``build_models``, it draws
    exactly the numbers the run would draw from the global RNG when trained alone."""
    device = torch.device(device)
    state = _rng_state(device)
    generator = torch.Generator(device=device)
    generator.set_state(state["cuda" if device.type == "cuda" else "torch"])
    return generator, state


def _write_infos(runs: list[RunSetup], infos: list[dict[str, Any]], **values: Any) -> None:
    """Update every run's run.json content with ``values`` and write it (atomically)."""
    for run, info in zip(runs, infos):
        info.update(values)
        write_json_atomic(run.out_dir / RUN_INFO, info)


def _per_run_values(out: dict[str, torch.Tensor], size: int) -> list[dict[str, float]]:
    """{name: (size,) tensor} -> one {name: float} per run, with a single device synchronisation."""
    names = list(out)
    table = torch.stack([out[k].detach().float() for k in names]).tolist()
    return [{k: table[i][r] for i, k in enumerate(names)} for r in range(size)]


def train_runs(
    models: ModelPair,
    objective: Objective,
    data: torch.Tensor,
    runs: list[RunSetup],
    settings: LoopSettings,
    progress: bool = True,
    on_step: Callable[[int], None] | None = None,
    stop_at: int | None = None,
    desc: str | None = None,
) -> list[dict[str, Any]]:
    """The loop: train ``models`` (one run, or a batched group of ``models.size`` runs in lockstep) on
    ``data`` with ``objective``; each run resumes from, and writes, its own directory.

    Each run draws its real batches from its own ``EpochSampler`` and its z (then the objective's
    ``d_noise``) from its own RNG, in the same order whether it trains alone or in a group. Every run's
    checkpoint, losses.csv, run.json and generator.pt have the layout of a plain run, so a run can be
    resumed alone or in a group alike. The runs of a group must be at the same step. ``settings.seed`` is
    not used (each ``RunSetup`` has its seed). ``stop_at``: stop (with a checkpoint, without generator.pt)
    at that step, before ``settings.steps``. Returns every run's run.json content.
    """
    if len(runs) != models.size:
        raise ValueError(f"{len(runs)} run setups for a group of {models.size} models")
    end = settings.steps if stop_at is None else min(stop_at, settings.steps)
    device = prepare_device(settings.device)  # 'auto' resolved, float32 switches set explicitly
    models.to(device)

    def adam(params: list[nn.Parameter], lr: float) -> torch.optim.Optimizer:
        return torch.optim.Adam(params, lr=lr, betas=settings.betas, amsgrad=settings.amsgrad)

    opt_g, opt_d = adam(models.g_parameters(), settings.lr_g), adam(models.d_parameters(), settings.lr_d)
    aux_params = models.aux_parameters(objective)
    opt_aux = adam(aux_params, settings.lr_g) if aux_params else None
    samplers = [EpochSampler(len(data), settings.batch_size, run.seed) for run in runs]

    step = 0
    infos = []
    for run in runs:
        run.out_dir.mkdir(parents=True, exist_ok=True)
        info = provenance(run.config, device)
        info.update(status="running", steps_done=0, last_checkpoint=None, resumed_from=None,
                    batch=run.batch or {"batched": False}, slurm_job_id=os.environ.get("SLURM_JOB_ID"))
        infos.append(info)
    ckpt_paths = [run.out_dir / CHECKPOINT for run in runs]
    csv_paths = [run.out_dir / LOSSES for run in runs]
    present = [p.exists() for p in ckpt_paths]
    if any(present):
        if not all(present):
            raise ResumeError("some runs of this group have a checkpoint and others not: "
                              f"{[str(p) for p, here in zip(ckpt_paths, present) if here]}; resume them apart")
        ckpts = [torch.load(p, map_location="cpu", weights_only=False) for p in ckpt_paths]  # RNG states stay on the CPU
        for path, ckpt, run in zip(ckpt_paths, ckpts, runs):
            diff = _config_differences(ckpt["config"], run.config)
            if diff:
                raise ResumeError(
                    f"{path} was written by a run with a different configuration (keys {diff}); "
                    "use a new output directory or delete the checkpoint"
                )
            if ckpt["step"] > settings.steps:
                raise ResumeError(
                    f"{path} is at generator step {ckpt['step']}, beyond the {settings.steps} steps asked for; "
                    "use a new output directory or ask for at least as many steps"
                )
        if len({c["step"] for c in ckpts}) > 1:
            raise ResumeError(f"the runs of a group must be at one step to resume together, got "
                              f"{[c['step'] for c in ckpts]} (train_seeds brings them level)")
        models.load_state_dicts([(c["generator"], c["discriminator"]) for c in ckpts])
        opt_g.load_state_dict(models.merge_optimizer_states([c["opt_g"] for c in ckpts]))
        opt_d.load_state_dict(models.merge_optimizer_states([c["opt_d"] for c in ckpts]))
        if opt_aux is not None:
            opt_aux.load_state_dict(models.merge_optimizer_states([c["opt_aux"] for c in ckpts]))
        for sampler, run, ckpt in zip(samplers, runs, ckpts):
            sampler.load_state_dict(ckpt["sampler"])
            run.set_rng_state(ckpt["rng"], device)
        step = ckpts[0]["step"]
        for info, csv_path in zip(infos, csv_paths):
            info.update(resumed_from=step, steps_done=step, last_checkpoint=step)
            _truncate_csv(csv_path, step)
        del ckpts
    else:
        for csv_path in csv_paths:
            csv_path.unlink(missing_ok=True)  # a fresh run: losses of an earlier, checkpoint-less run are stale

    def save_checkpoints() -> None:
        states = models.state_dicts()
        per_run_opts = [models.split_optimizer_state(opt.state_dict()) if opt is not None else [None] * len(runs)
                        for opt in (opt_g, opt_d, opt_aux)]
        for i, (run, path) in enumerate(zip(runs, ckpt_paths)):
            torch_save_atomic(
                {
                    "step": step,
                    "config": run.config,
                    "generator": states[i][0],
                    "discriminator": states[i][1],
                    "opt_g": per_run_opts[0][i],
                    "opt_d": per_run_opts[1][i],
                    "opt_aux": per_run_opts[2][i],
                    "sampler": samplers[i].state_dict(),
                    "rng": run.rng_state(device),
                },
                path,
            )
        _write_infos(runs, infos, steps_done=step, last_checkpoint=step, updated_utc=utc_now())
        images.checkpoint(step, [g for g, _ in states])  # samples.png (and TensorBoard); training untouched

    def check_finite(values: list[dict[str, float]], phase: str) -> None:
        for i, vals in enumerate(values):
            try:
                _check_finite(vals, step + 1, phase)
            except NonFiniteLossError as exc:
                if len(runs) > 1:
                    exc = NonFiniteLossError(f"seed {runs[i].seed}: {exc}")
                exc.run_index = i
                raise exc from None

    _write_infos(runs, infos)
    models.train()
    d_params = models.d_parameters()
    z_dim, fake_batch = models.z_dim, objective.fake_batch(settings.batch_size)
    csv_files = [p.open("a", newline="") for p in csv_paths]
    writers = [csv.writer(f, lineterminator="\n") for f in csv_files]
    headers = [p.stat().st_size > 0 for p in csv_paths]
    started = time.time()
    report = TrainProgress(desc or runs[0].out_dir.name, settings.steps, step, bar=progress,
                           every=settings.progress_every)
    report.start(runs[0].config, [run.seed for run in runs], end, settings.batch_size, device)
    images = ProgressImages(runs, device, step)
    try:
        while step < end:
            for p in d_params:
                p.requires_grad_(True)
            for _ in range(objective.d_steps):
                reals = [to_model_range(data[s.next()]).to(device, non_blocking=True) for s in samplers]
                zs = [torch.randn(fake_batch, z_dim, device=device, generator=run.noise) for run in runs]
                noise = [objective.d_noise(real, run.noise) for real, run in zip(reals, runs)]
                d_out = models.apply(objective.d_loss, reals, zs, noise=noise)
                opt_d.zero_grad(set_to_none=True)
                d_out["loss"].sum().backward()
                opt_d.step()
            d_vals = _per_run_values(d_out, len(runs))
            check_finite(d_vals, "discriminator")

            for p in d_params:
                p.requires_grad_(False)
            zs = [torch.randn(fake_batch, z_dim, device=device, generator=run.noise) for run in runs]
            g_out = models.apply(objective.g_loss, zs)
            opt_g.zero_grad(set_to_none=True)
            g_out["loss"].sum().backward()
            g_vals = _per_run_values(g_out, len(runs))
            check_finite(g_vals, "generator")
            opt_g.step()
            aux_vals: list[dict[str, float]] = [{} for _ in runs]
            if opt_aux is not None:
                aux_out = models.apply(lambda G, D, z: objective.aux_loss(G, z), zs)
                opt_aux.zero_grad(set_to_none=True)
                aux_out["loss"].sum().backward()
                aux_vals = _per_run_values(aux_out, len(runs))
                check_finite(aux_vals, "auxiliary")
                opt_aux.step()
            step += 1

            if step % settings.log_every == 0 or step == settings.steps:
                for i in range(len(runs)):
                    row = {"step": step, **{f"d_{k}": v for k, v in d_vals[i].items()},
                           **{f"g_{k}": v for k, v in g_vals[i].items()},
                           **{f"aux_{k}": v for k, v in aux_vals[i].items()}}
                    if not headers[i]:
                        writers[i].writerow(row.keys())
                        headers[i] = True
                    writers[i].writerow([f"{v:.6g}" if isinstance(v, float) else v for v in row.values()])
                    csv_files[i].flush()
                    images.scalars(i, row)
            if step % settings.checkpoint_every == 0 or step == end:
                save_checkpoints()
            report.update(step, d=[v["loss"] for v in d_vals], g=[v["loss"] for v in g_vals])
            if on_step is not None:
                on_step(step)
            if requested() is not None:
                raise Interrupted(requested(), f"at generator step {step}")
    except Interrupted as exc:
        if infos[0]["last_checkpoint"] != step:
            save_checkpoints()
        _write_infos(runs, infos, status="interrupted", error=f"{exc}; checkpoint written, a rerun resumes",
                     signal=signal_name(exc.signum), steps_done=step, updated_utc=utc_now())
        print(f"[train] {desc or runs[0].out_dir.name}: {exc}: checkpoint at step {step} written, run.json says "
              "interrupted; a rerun resumes from it", flush=True)
        raise
    except NonFiniteLossError as exc:
        for i, (run, info) in enumerate(zip(runs, infos)):
            if i == exc.run_index:
                info.update(status="failed", error=str(exc), steps_done=step)
            else:
                info.update(status="stopped", error=f"stopped with its batched group: {exc}", steps_done=step)
            write_json_atomic(run.out_dir / RUN_INFO, info)
        raise
    except (Exception, KeyboardInterrupt) as exc:  # Ctrl-C lands mid-step: no checkpoint, a rerun resumes
        interrupted = isinstance(exc, KeyboardInterrupt)
        _write_infos(runs, infos, status="interrupted" if interrupted else "failed", updated_utc=utc_now(),
                     error="Ctrl-C (SIGINT)" if interrupted else f"{type(exc).__name__}: {exc}", steps_done=step)
        raise
    finally:
        report.close()
        images.close()
        for f in csv_files:
            f.close()

    complete = step == settings.steps
    states = models.state_dicts() if complete else []
    for i, (run, info) in enumerate(zip(runs, infos)):
        if complete:
            torch_save_atomic({"generator": states[i][0], "config": run.config, "step": step}, run.out_dir / GENERATOR)
        info.update(status="complete" if complete else "paused", steps_done=step,
                    seconds_this_session=round(time.time() - started, 3), finished_utc=utc_now())
        write_json_atomic(run.out_dir / RUN_INFO, info)
    return infos


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
    batch: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train G and D on ``data`` (N, ...) with ``objective``; resume from ``out_dir`` if possible.

    The caller seeds (``seed_everything``) before building G and D so the initial weights are
    reproducible; z and the objective's random numbers come from the global RNG. ``config`` is recorded
    in every checkpoint and in run.json; a resumed run must have the same config up to
    ``RESUMABLE_CHANGES``. ``on_step(step)`` runs after each completed G step (and its checkpoint); tests
    use it to simulate a kill. ``batch``: run.json's record of how the run was trained (default: alone).
    Returns run.json's content.
    """
    run = RunSetup(Path(out_dir), config, settings.seed, batch=batch)
    return train_runs(ModelPair(G, D), objective, data, [run], settings, progress=progress, on_step=on_step)[0]


def build_models(cfg: TrainConfig) -> tuple[nn.Module, nn.Module, Objective]:
    """Seed with ``cfg.seed``, then build G, D and the objective of ``cfg`` (weights reproducible)."""
    seed_everything(cfg.seed)
    spec = cfg.spec
    G = build_generator(spec, cfg.image_size, cfg.channels, cfg.z_dim, megan_tau=cfg.megan_tau)
    D = build_discriminator(spec, cfg.image_size, cfg.channels, norm=cfg.d_norm)
    objective = build_objective(
        cfg.resolved_objective, cfg.resolved_d_steps, spec.num_generators, cfg.gp_lambda, cfg.gp_norm,
        cfg.mgan_beta, cfg.megan_balance_weight, cfg.madgan_g_loss,
    )
    return G, D, objective


def check_training_data(cfg: TrainConfig, data: torch.Tensor) -> None:
    expected = (cfg.channels, cfg.image_size, cfg.image_size)
    if data.dim() != 4 or tuple(data.shape[1:]) != expected:
        raise ValueError(f"training data has shape {tuple(data.shape)}; config expects (N, {', '.join(map(str, expected))})")


def loop_settings(cfg: TrainConfig) -> LoopSettings:
    """The loop's settings of the image run ``cfg``."""
    return LoopSettings(
        steps=cfg.resolved_steps, batch_size=cfg.batch_size, seed=cfg.seed, lr_g=cfg.lr, lr_d=cfg.lr_d or cfg.lr,
        betas=cfg.betas, amsgrad=cfg.amsgrad, checkpoint_every=cfg.checkpoint_every, log_every=cfg.log_every,
        device=cfg.device, progress_every=cfg.progress_every,
    )


def train_from_config(
    cfg: TrainConfig, data: torch.Tensor, out_dir: str | Path, progress: bool = True,
    on_step: Callable[[int], None] | None = None, batch: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train the image model of ``cfg`` on ``data`` (N, C, H, W) uint8 or float in [-1, 1]."""
    check_training_data(cfg, data)
    G, D, objective = build_models(cfg)
    return train_gan(G, D, objective, data, out_dir, loop_settings(cfg), cfg.to_dict(), progress=progress,
                     on_step=on_step, batch=batch)


def seed_dir(out_root: str | Path, seed: int) -> Path:
    """Run directory of one seed inside a multi-seed output folder: ``<out_root>/seed<seed>``."""
    return Path(out_root) / f"seed{seed}"


def checkpoint_step(run_dir: str | Path) -> int:
    """The generator step of the checkpoint in ``run_dir`` (0 without one)."""
    path = Path(run_dir) / CHECKPOINT
    if not path.exists():
        return 0
    return int(torch.load(path, map_location="cpu", weights_only=False, mmap=True)["step"])


def train_seeds(
    cfg: TrainConfig, seeds: list[int], data: torch.Tensor, out_root: str | Path, progress: bool = True,
    batch: bool = True, batch_mode: str = "auto", compile_mode: str | None = None,
    on_step: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    """Train ``cfg`` once per seed into ``<out_root>/seed<seed>/``. Returns each seed's run.json, in order.

    With ``batch`` (the default) and an objective and models that can be batched (``batched.
    batching_unsupported``: FC / ME / HME with WGAN-GP, not the BatchNorm competitors), the seeds train
    together as one batched model in this process (``batched.train_group``; ``batch_mode`` and
    ``compile_mode`` as there); otherwise, or with ``batch=False``, one after the other. Either way each
    seed's directory holds what a run of that seed alone writes, and run.json's "batch" records how it was
    trained (and why not batched). Re-running resumes: seeds whose checkpoints stand at different steps
    (a kill between two seeds' checkpoint writes, or seeds trained apart before) first train up to the
    next seed's step in smaller groups, then together. If a batched seed's loss turns NaN, the seeds go
    on one by one from their checkpoints, so the others finish; the first error is raised at the end."""
    import dataclasses

    if len(set(seeds)) != len(seeds) or not seeds:
        raise ValueError(f"seeds must be distinct and at least one, got {seeds}")
    check_training_data(cfg, data)
    cfgs = [dataclasses.replace(cfg, seed=s) for s in seeds]
    if not batch:
        return _train_one_by_one(cfgs, data, out_root, progress, on_step, "batching switched off (--no-batch)")
    from .batched import batching_unsupported, train_group

    reason = batching_unsupported(cfg) if len(seeds) > 1 else "one seed: nothing to batch"
    if reason is not None:
        return _train_one_by_one(cfgs, data, out_root, progress, on_step, reason)
    try:
        while True:
            at = {c.seed: checkpoint_step(seed_dir(out_root, c.seed)) for c in cfgs}
            low = min(at.values())
            group = [c for c in cfgs if at[c.seed] == low]
            later = sorted(v for v in at.values() if v > low)
            infos = train_group(group, data, [seed_dir(out_root, c.seed) for c in group], progress=progress,
                                on_step=on_step, stop_at=later[0] if later else None, mode=batch_mode,
                                compile_mode=compile_mode)
            if not later:
                return infos
    except NonFiniteLossError as exc:
        return _train_one_by_one(cfgs, data, out_root, progress, on_step,
                                 f"a seed of the batched group failed ({exc}); the seeds went on one by one")


def _train_one_by_one(cfgs: list[TrainConfig], data: torch.Tensor, out_root: str | Path, progress: bool,
                      on_step: Callable[[int], None] | None, reason: str) -> list[dict[str, Any]]:
    """Each seed alone, one after the other; a NaN in one seed does not stop the others (raised at the end)."""
    infos, errors = [], []
    for c in cfgs:
        try:
            infos.append(train_from_config(c, data, seed_dir(out_root, c.seed), progress=progress, on_step=on_step,
                                           batch={"batched": False, "reason": reason}))
        except NonFiniteLossError as exc:
            errors.append(exc)
    if errors:
        raise errors[0]
    return infos
