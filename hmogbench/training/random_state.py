"""Where a run's random numbers come from, and how they are saved and restored.

``EpochSampler`` orders the real images (its own CPU generator: the same order on every device); ``RunSetup``
says where a run's z and the objective's noise come from (this process's global RNG, or a generator of its own
in a batched group) and turns that state into a checkpoint's "rng" entry and back.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch


class EpochSampler:
    """Indices of real batches: a fresh random permutation per pass over the data, last partial batch dropped
    (the authors' loops only use full batches). The permutation is drawn by its own CPU generator, so the order
    is the same on every device and checkpointable; it is moved to ``device`` once per pass, so that a batch is
    a slice of a device tensor (no host-to-device copy per step)."""

    def __init__(self, num_items: int, batch_size: int, seed: int, device: str | torch.device = "cpu"):
        if num_items < batch_size:
            raise ValueError(f"the data has {num_items} items, fewer than one batch of {batch_size}")
        self.num_items, self.batch_size, self.device = num_items, batch_size, torch.device(device)
        self.rng = torch.Generator().manual_seed(seed)
        self.epoch, self.position = 0, 0
        self._set_order(torch.randperm(num_items, generator=self.rng))

    def _set_order(self, order: torch.Tensor) -> None:
        self.order = order  # (N,) int64 on the CPU: what a checkpoint records
        if self.device.type == "cuda":  # from pinned memory, asynchronously: the host does not wait for the copy
            self._order_on_device = order.pin_memory().to(self.device, non_blocking=True)
        else:
            self._order_on_device = order.to(self.device)

    def next(self) -> torch.Tensor:
        """The next batch's indices, (batch_size,) int64 on the sampler's device."""
        if self.position + self.batch_size > self.num_items:
            self._set_order(torch.randperm(self.num_items, generator=self.rng))
            self.epoch, self.position = self.epoch + 1, 0
        batch = self._order_on_device[self.position : self.position + self.batch_size]
        self.position += self.batch_size
        return batch

    def state_dict(self) -> dict[str, Any]:
        return {"rng": self.rng.get_state(), "epoch": self.epoch, "position": self.position, "order": self.order}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.set_state(state["rng"])
        self.epoch, self.position = state["epoch"], state["position"]
        self._set_order(state["order"])


def global_rng_state(device: torch.device) -> dict[str, Any]:
    """The states of torch's (CPU, and ``device``'s CUDA), NumPy's and Python's global RNGs."""
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_global_rng_state(state: dict[str, Any], device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def _noise_key(generator: torch.Generator) -> str:
    return "cuda" if generator.device.type == "cuda" else "torch"


def noise_generator(device: str | torch.device) -> tuple[torch.Generator, dict[str, Any]]:
    """A generator on ``device`` continuing the global RNG of ``device`` from its current state, and the
    global RNG states (the checkpoint's "rng" entry). Called right after a run's ``build_models``, it draws
    exactly the numbers the run would draw from the global RNG when trained alone."""
    device = torch.device(device)
    state = global_rng_state(device)
    generator = torch.Generator(device=device)
    generator.set_state(state["cuda" if device.type == "cuda" else "torch"])
    return generator, state


@dataclass
class RunSetup:
    """One run of the loop: where it writes, what it records, and where its random numbers come from."""

    out_dir: Path
    config: dict[str, Any]
    seed: int  # the EpochSampler's seed (data order)
    noise: torch.Generator | None = None  # z and the objective's d_noise; None: this process's global RNG
    rng: dict[str, Any] | None = None  # with ``noise``: the other RNG states its checkpoints record
    batch: dict[str, Any] | None = None  # run.json's record of how the run was trained (batched or not)
    data: dict[str, Any] | None = None  # run.json's "data": what it trained on (``data.verify.data_record``)

    def rng_state(self, device: torch.device) -> dict[str, Any]:
        """The checkpoint's "rng" entry, the same layout whether the noise comes from the global RNG or not:
        a run continues from it alone or in a batched group alike."""
        if self.noise is None:
            return global_rng_state(device)
        return {**self.rng, _noise_key(self.noise): self.noise.get_state()}

    def set_rng_state(self, state: dict[str, Any], device: torch.device) -> None:
        if self.noise is None:
            set_global_rng_state(state, device)
            return
        self.rng = dict(state)
        if _noise_key(self.noise) in state:  # as set_global_rng_state: a CPU checkpoint resumed on a GPU keeps its stream
            self.noise.set_state(state[_noise_key(self.noise)])
