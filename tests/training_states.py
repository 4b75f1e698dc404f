"""What "the same training" means in the tests: two run folders hold bit-identical results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from hmogbench.training import CHECKPOINT, GENERATOR, LOSSES

CHECKPOINT_PARTS = ("generator", "discriminator", "opt_g", "opt_d", "opt_aux", "sampler", "rng", "step")


def tiny_images() -> torch.Tensor:
    """48 random uint8 images, (48, 1, 32, 32): enough for a few batches of 8 (the ``tiny_images`` fixture)."""
    g = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (48, 1, 32, 32), generator=g, dtype=torch.uint8)


def load(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=False)


def equal(a, b) -> bool:
    """Nested state (dicts, lists, tensors, arrays, numbers) bit for bit."""
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and np.array_equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
    return a == b


def assert_same_training(a: Path, b: Path) -> None:
    """Same final G, the same checkpoint (G, D, every optimiser, data order, every RNG state, step) and the same
    losses.csv in run folders ``a`` and ``b``."""
    assert equal(load(a / GENERATOR)["generator"], load(b / GENERATOR)["generator"]), f"final G of {b} differs"
    ca, cb = load(a / CHECKPOINT), load(b / CHECKPOINT)
    for key in CHECKPOINT_PARTS:
        assert equal(ca.get(key), cb.get(key)), f"checkpoint {key} of {b} differs"
    assert (a / LOSSES).read_text() == (b / LOSSES).read_text(), f"losses.csv of {b} differs"
