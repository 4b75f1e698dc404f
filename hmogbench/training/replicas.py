"""The models the loop trains, as it drives them: the ``Replicas`` protocol, and ``OneRun``, one run's G and D.

``training.stacked.StackedRuns`` implements the same protocol for S runs stacked into one batched model.
Arguments that differ per run are lists, one entry per run; ``apply`` returns every loss as a (size,) tensor,
so that one ``loss.sum().backward()`` gives each run exactly its own gradients (runs share no parameters).
State dicts and optimiser states go in and out per run, in the layout of one plain run, so that a run's
checkpoint is the same whether it trained alone or in a group.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol

import torch
from torch import nn

from .objectives import Objective

StateDicts = list[tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]]  # (G, D) state dict of every run
LossFn = Callable[..., dict[str, torch.Tensor]]  # fn(G, D, *args, **noise) -> {name: scalar tensor}


class Replicas(Protocol):
    """``size`` runs of one architecture, trained in lockstep by the loop."""

    size: int

    @property
    def z_dim(self) -> int: ...

    def to(self, device: torch.device) -> None: ...

    def train(self) -> None: ...

    def g_parameters(self) -> list[torch.Tensor]: ...

    def d_parameters(self) -> list[torch.Tensor]: ...

    def aux_parameters(self, objective: Objective) -> list[torch.Tensor]: ...

    def apply(self, fn: LossFn, *args: list[torch.Tensor],
              noise: list[dict[str, torch.Tensor]] | None = None) -> dict[str, torch.Tensor]:
        """``fn(G, D, *args, **noise)`` of every run (``args``, ``noise``: one entry per run) -> {name: (size,)}."""

    def state_dicts(self) -> StateDicts:
        """(G state dict, D state dict) of every run, in the layout of one plain run."""

    def load_state_dicts(self, states: StateDicts) -> None: ...

    def split_optimizer_state(self, state: dict[str, Any]) -> list[dict[str, Any]]:
        """An optimiser state dict over these models -> one per run, in the layout of one plain run."""

    def merge_optimizer_states(self, states: list[dict[str, Any]]) -> dict[str, Any]:
        """The inverse of ``split_optimizer_state``."""


class OneRun:
    """One run's plain G and D as ``Replicas`` of size 1."""

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

    def apply(self, fn: LossFn, *args: list[torch.Tensor],
              noise: list[dict[str, torch.Tensor]] | None = None) -> dict[str, torch.Tensor]:
        out = fn(self.G, self.D, *(a[0] for a in args), **(noise[0] if noise else {}))
        return {k: v.reshape(1) for k, v in out.items()}

    def state_dicts(self) -> StateDicts:
        return [(self.G.state_dict(), self.D.state_dict())]

    def load_state_dicts(self, states: StateDicts) -> None:
        ((g, d),) = states
        self.G.load_state_dict(g)
        self.D.load_state_dict(d)

    def split_optimizer_state(self, state: dict[str, Any]) -> list[dict[str, Any]]:
        return [state]

    def merge_optimizer_states(self, states: list[dict[str, Any]]) -> dict[str, Any]:
        return states[0]
