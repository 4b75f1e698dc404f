"""The loop's guard against non-finite losses, kept on the device so that the step loop never waits for it.

Every step, ``FiniteGuard.record`` stacks the step's losses into one (values, runs) table on the device and
notes, per run, the first generator step at which one of them was NaN or infinite, with that step's values.
``check`` reads that record (one device synchronisation) and raises ``NonFiniteLossError`` naming the first
bad step; the loop calls it at every log step and before every checkpoint and generator.pt write, so a
non-finite state is never saved.
"""

from __future__ import annotations

import math

import torch


class NonFiniteLossError(RuntimeError):
    """A loss became NaN or infinite; the run stops before writing a checkpoint of that state.
    ``run_index``: which run of a batched group (0 for a run alone)."""

    run_index = 0


PHASES = {"d": "discriminator", "g": "generator", "aux": "auxiliary"}


class FiniteGuard:
    """Device-side record of each run's first non-finite loss (step and values); ``size`` runs."""

    def __init__(self, size: int, device: torch.device):
        self.first_step = torch.full((size,), -1, dtype=torch.long, device=device)
        self.names: list[tuple[str, str]] | None = None  # (phase, loss name) of each row of the tables
        self.first_values: torch.Tensor | None = None  # (values, runs) at each run's first bad step
        self.latest: torch.Tensor | None = None  # (values, runs) of the last recorded step

    def record(self, step: int, losses: dict[str, dict[str, torch.Tensor]]) -> None:
        """Generator step ``step``'s losses, {phase ('d', 'g', 'aux'): {name: (runs,) tensor}}; no sync."""
        names = [(phase, name) for phase, out in losses.items() for name in out]
        table = torch.stack([losses[phase][name].detach().float() for phase, name in names])
        if self.names is None:
            self.names, self.first_values = names, torch.zeros_like(table)
        new = ~torch.isfinite(table).all(0) & (self.first_step < 0)
        self.first_step = torch.where(new, step, self.first_step)
        self.first_values = torch.where(new, table, self.first_values)
        self.latest = table

    def rows(self) -> list[dict[str, float]]:
        """The last step's losses per run, {'d_loss': ..., 'g_loss': ..., ...} (one sync)."""
        values = self.latest.tolist()
        return [{f"{phase}_{name}": values[i][r] for i, (phase, name) in enumerate(self.names)}
                for r in range(self.latest.shape[1])]

    def check(self, labels: list[str | None]) -> None:
        """Raise ``NonFiniteLossError`` for the first run (``labels``: how to name each, or None) that had a
        non-finite loss, naming the phase, the loss, its value and the generator step."""
        for run, step in enumerate(self.first_step.tolist()):
            if step < 0:
                continue
            values = self.first_values[:, run].tolist()
            i = next(i for i, v in enumerate(values) if not math.isfinite(v))
            phase, name = self.names[i]
            message = (f"{PHASES[phase]} {name} is {values[i]} at generator step {step}; stopping before this "
                       "state is checkpointed")
            exc = NonFiniteLossError(message if labels[run] is None else f"{labels[run]}: {message}")
            exc.run_index = run
            raise exc
