"""The one training loop, shared by every model and objective (image and toy runs), for one run or a group.

Per generator step: ``objective.d_steps`` discriminator steps, each on a fresh real batch and fresh z; then
one G step on fresh z with D frozen; then the objective's optional auxiliary step. Each run draws its real
batches from its own ``EpochSampler`` and its z (then the objective's ``d_noise``) from its own RNG, in the
same order whether it trains alone or in a group (``Replicas``: ``OneRun`` or ``StackedRuns``).

Nothing in a step waits for the device: the training images live on it (uint8, a batch is a slice), the
losses stay on it, and the non-finite check (``FiniteGuard``) reads its device-side record only at log steps
and before every checkpoint. Every ``log_every`` steps: losses.csv; every ``checkpoint_every`` steps and at the
end: checkpoint.pt and run.json; with ``eval_every`` set, every ``eval_every`` steps and at the end: a generator
snapshot (``training.snapshots``; ``training.files`` lists a run directory's files).
"""

from __future__ import annotations

import time
from typing import Any, Callable

import torch

from ..data.images import to_model_range
from ..runtime.device import prepare_device
from ..runtime.provenance import torch_save_atomic, utc_now
from ..runtime.stop_signals import Interrupted, deferred, requested, signal_name
from . import precision
from .checkpoints import Optimizers, load_checkpoints, read_checkpoints, write_checkpoints
from .files import GENERATOR
from .finite import FiniteGuard, NonFiniteLossError
from .loss_log import LossLog
from .objectives import Objective
from .progress import TrainProgress, run_label
from .progress_images import ProgressImages
from .random_state import EpochSampler, RunSetup
from .records import RunRecords
from .replicas import Replicas
from .settings import LoopSettings
from .snapshots import eval_every, generator_file, snapshot_due, write_snapshots

Losses = dict[str, dict[str, torch.Tensor]]  # {phase ('d', 'g', 'aux'): {name: (runs,) tensor}}


def train_runs(models: Replicas, objective: Objective, data: torch.Tensor, runs: list[RunSetup],
               settings: LoopSettings, progress: bool = True, on_step: Callable[[int], None] | None = None,
               stop_at: int | None = None) -> list[dict[str, Any]]:
    """Train ``models`` (``models.size`` runs in lockstep) on ``data`` (N, C, H, W) with ``objective``; each run
    resumes from, and writes, its own directory, in the layout of a plain run (a run can be resumed alone or
    in a group alike). The runs of a group must be at the same step. ``settings.seed`` is not used (each
    ``RunSetup`` has its seed). ``stop_at``: stop (with a checkpoint, without generator.pt) at that step, before
    ``settings.steps``. ``on_step(step)`` runs after each G step (tests simulate a kill with it). The progress
    lines and bar are labelled with model and seeds (``progress.run_label``). Returns every run's run.json content."""
    if len(runs) != models.size:
        raise ValueError(f"{len(runs)} run setups for a group of {models.size} models")
    end = settings.steps if stop_at is None else min(stop_at, settings.steps)
    return TrainingLoop(models, objective, data, runs, settings).run(end, progress, on_step)


def _on_device(data: torch.Tensor, device: torch.device) -> torch.Tensor:
    """The training images on ``device`` (uint8: 61 MB for MNIST, 2.4 GB for CelebA at 64x64)."""
    try:
        return data.to(device)
    except torch.cuda.OutOfMemoryError:
        raise RuntimeError(f"the training images ({tuple(data.shape)}, {data.numel() * data.element_size() / 2**30:.2f}"
                           f" GiB as {data.dtype}) do not fit on {device}") from None


class TrainingLoop:
    """One session of the loop: models, optimisers, samplers and records set up, resumed where checkpointed."""

    def __init__(self, models: Replicas, objective: Objective, data: torch.Tensor, runs: list[RunSetup],
                 settings: LoopSettings):
        self.device = prepare_device(settings.device)  # 'auto' resolved, float32 switches set explicitly
        self.precision = precision.resolve(settings.precision, self.device)  # what runs: run.json records it
        models.to(self.device)
        self.models, self.objective, self.runs, self.settings = models, objective, runs, settings
        self.optimizers = Optimizers.build(models, objective, settings)
        self.d_params = models.d_parameters()  # frozen for the G step, unfrozen for the critic steps
        self.samplers = [EpochSampler(len(data), settings.batch_size, run.seed, self.device) for run in runs]
        self.records = RunRecords(runs, self.device, self.precision)
        self.resumed_at = self._resume()
        self.step = self.resumed_at or 0
        self.data = _on_device(data, self.device)
        self.guard = FiniteGuard(len(runs), self.device)
        self.labels = [f"seed {run.seed}" if len(runs) > 1 else None for run in runs]
        self.fake_batch = objective.fake_batch(settings.batch_size)
        self.eval_every = eval_every(runs)  # generator snapshots (None: none)

    def _resume(self) -> int | None:
        """Load the runs' checkpoints if they have them; the step resumed from, or None for a fresh start."""
        ckpts = read_checkpoints(self.runs, self.settings.steps)
        if ckpts is None:
            return None
        step = load_checkpoints(ckpts, self.models, self.optimizers, self.samplers, self.runs, self.device)
        for info in self.records.infos:
            info.update(resumed_from=step, steps_done=step, last_checkpoint=step)
        return step

    def run(self, end: int, progress: bool, on_step: Callable[[int], None] | None) -> list[dict[str, Any]]:
        """Train from ``self.step`` to ``end``; record how it ended in every run.json, whatever happens. A signal
        (SIGTERM, SIGUSR1, Ctrl-C) stops it before the next step, after a checkpoint (``_interrupted``)."""
        log = LossLog([run.out_dir for run in self.runs], self.resumed_at)
        self.records.write()
        self.models.train()
        config, seeds = self.runs[0].config, [run.seed for run in self.runs]
        self.title = run_label(config, seeds)
        report = TrainProgress(self.title, self.settings.steps, self.step, bar=progress,
                               every=self.settings.progress_every)
        report.start(config, seeds, end, self.settings.batch_size, self.device)
        images = ProgressImages(self.runs, self.device, self.step)
        started = time.time()
        try:
            try:
                with deferred():  # a signal is recorded here, and acted on between two steps
                    while self.step < end:
                        if requested() is not None:
                            raise Interrupted(requested())
                        self.guard.record(self.step + 1, self.train_step())
                        self.step += 1
                        self._after_step(end, log, images, report)
                        if on_step is not None:
                            on_step(self.step)
            except Interrupted as exc:
                raise self._interrupted(exc, images) from None
        except Interrupted:
            raise
        except NonFiniteLossError as exc:
            self.records.failed(exc.run_index, str(exc), self.step)
            raise
        except (Exception, KeyboardInterrupt) as exc:  # a second Ctrl-C lands mid-step: no checkpoint at this step
            ctrl_c = isinstance(exc, KeyboardInterrupt)
            error = "Ctrl-C (SIGINT)" if ctrl_c else f"{type(exc).__name__}: {exc}"
            self.records.write(status="interrupted" if ctrl_c else "failed", updated_utc=utc_now(),
                               steps_done=self.step, error=error)
            raise
        finally:
            report.close()
            images.close()
            log.close()
        return self._finish(started)

    def train_step(self) -> Losses:
        """One generator step: the critic steps, the G step, the auxiliary step; the last losses of each phase."""
        losses = {"d": self._critic_steps()}
        zs, losses["g"] = self._generator_step()
        if self.optimizers.aux is not None:
            losses["aux"] = self._auxiliary_step(zs)
        return losses

    def _draw_z(self) -> list[torch.Tensor]:
        return [torch.randn(self.fake_batch, self.models.z_dim, device=self.device, generator=run.noise)
                for run in self.runs]

    def _losses(self, fn: Callable, *args: list[torch.Tensor],
                 noise: list[dict[str, torch.Tensor]] | None = None) -> dict[str, torch.Tensor]:
        """``models.apply`` of a loss, its forwards in the run's precision (``precision.autocast``: bf16 or none)."""
        with precision.autocast(self.precision, self.device):
            return self.models.apply(fn, *args, noise=noise)

    @staticmethod
    def _descend(optimizer: torch.optim.Optimizer, out: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        optimizer.zero_grad(set_to_none=True)
        out["loss"].sum().backward()
        optimizer.step()
        return {name: value.detach() for name, value in out.items()}

    def _critic_steps(self) -> dict[str, torch.Tensor]:
        objective = self.objective
        for p in self.d_params:
            p.requires_grad_(True)
        for _ in range(objective.d_steps):
            reals = [to_model_range(self.data[sampler.next()]) for sampler in self.samplers]
            zs = self._draw_z()
            noise = [objective.d_noise(real, run.noise) for real, run in zip(reals, self.runs)]
            out = self._descend(self.optimizers.d, self._losses(objective.d_loss, reals, zs, noise=noise))
        return out

    def _generator_step(self) -> tuple[list[torch.Tensor], dict[str, torch.Tensor]]:
        for p in self.d_params:
            p.requires_grad_(False)
        zs = self._draw_z()
        return zs, self._descend(self.optimizers.g, self._losses(self.objective.g_loss, zs))

    def _auxiliary_step(self, zs: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        aux_loss = self.objective.aux_loss
        return self._descend(self.optimizers.aux, self._losses(lambda G, D, z: aux_loss(G, z), zs))

    def _after_step(self, end: int, log: LossLog, images: ProgressImages, report: TrainProgress) -> None:
        """losses.csv at log steps, generator snapshots at ``eval_every`` steps, checkpoints at checkpoint steps
        (each after the finiteness check; a snapshot before its step's checkpoint, so that a run killed between the
        two replays that step and writes it), progress."""
        step, settings = self.step, self.settings
        if step % settings.log_every == 0 or step == settings.steps:
            self.guard.check(self.labels)
            for i, row in enumerate(self.guard.rows()):
                row = {"step": step, **row}
                log.write(i, row)
                images.scalars(i, row)
        if snapshot_due(step, self.eval_every, settings.steps):
            self.guard.check(self.labels)
            write_snapshots(step, self.models, self.runs, self.precision)
        if step % settings.checkpoint_every == 0 or step == end:
            self.save_checkpoints(images)
        report.update(step, self._shown_losses)

    def _shown_losses(self) -> tuple[list[float], list[float]]:
        rows = self.guard.rows()
        return [r["d_loss"] for r in rows], [r["g_loss"] for r in rows]

    def save_checkpoints(self, images: ProgressImages) -> None:
        """Every run's checkpoint at the current step, if every loss so far was finite; then run.json, samples."""
        self.guard.check(self.labels)
        states = write_checkpoints(self.step, self.models, self.optimizers, self.samplers, self.runs, self.device)
        self.records.checkpointed(self.step)
        images.checkpoint(self.step, [g for g, _ in states])  # samples.png (and TensorBoard); training untouched

    def _interrupted(self, exc: Interrupted, images: ProgressImages) -> Interrupted:
        """A signal stopped the loop before a step: checkpoint (unless nothing is new since the last one), record;
        the exception to raise, saying where it stopped (the command prints it as its one line)."""
        if self.step != (self.records.last_checkpoint or 0):
            self.save_checkpoints(images)
        kept = "no checkpoint yet" if self.records.last_checkpoint is None else "checkpoint written"
        stopped = Interrupted(exc.signum, f"at generator step {self.step} of {self.title}, {kept}")
        self.records.write(status="interrupted", error=f"{stopped}; a rerun resumes", signal=signal_name(exc.signum),
                           steps_done=self.step, updated_utc=utc_now())
        return stopped

    def _finish(self, started: float) -> list[dict[str, Any]]:
        """generator.pt of every run if complete; run.json complete (or paused at ``stop_at``)."""
        complete = self.step == self.settings.steps
        if complete:
            for run, (g_state, _) in zip(self.runs, self.models.state_dicts()):
                torch_save_atomic(generator_file(g_state, run, self.step, self.precision), run.out_dir / GENERATOR)
        self.records.write(status="complete" if complete else "paused", steps_done=self.step,
                           seconds_this_session=round(time.time() - started, 3), finished_utc=utc_now())
        return self.records.infos
