"""Training precision (TrainConfig ``train_precision``): its names, what a run really computes in, the one autocast
of the losses, and how records and tables name it.

- ``fp32`` (the default, faithful): IEEE float32 everywhere (TF32 off unless $HMOGBENCH_TF32=1,
  ``runtime.device.set_numerics``), as on the authors' pre-Ampere GPUs.
- ``tf32``: float32 tensors, matmuls and convolutions on TF32 tensor cores (CUDA only, switched on by
  ``runtime.device.set_numerics(tf32=True)``). A CPU has no TF32: a one-line notice, and the run is fp32.
- ``bf16``: every G and D forward of the losses under ``torch.autocast`` in bfloat16 (CPU or CUDA); parameters,
  gradients and the optimisers stay float32, and so does the WGAN-GP penalty and its double backward
  (``full_precision``, ``objectives.gradient_penalty``).

run.json, generator.pt, snapshots and every metrics record (``fake_source``) hold what ran (``resolve``), and the
tables name it after the distance (``tag``: 'FID [bf16 training]') as they name feature precision. Records
without it (older runs) mean fp32 (``recorded``).
"""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager

import torch

from ..registry.train_precisions import RECORD_KEY, TRAIN_PRECISIONS, check, recorded, tag  # noqa: F401 (re-exported)
from ..runtime.device import set_numerics, tf32_in_effect

AUTOCAST_DTYPES = {"bf16": torch.bfloat16}  # precisions that run the forwards under autocast


def resolve(precision: str, device: torch.device) -> str:
    """What a run asking for ``precision`` on ``device`` computes in (after ``runtime.device.prepare_device``):
    'tf32' switches TF32 on (CUDA) and is what 'fp32' becomes where $HMOGBENCH_TF32=1 switched it on; on a CPU
    'tf32' prints a notice and is 'fp32'; 'bf16' is 'bf16' everywhere."""
    check(precision)
    if precision == "bf16":
        return precision
    if precision == "tf32" and device.type == "cuda":
        set_numerics(tf32=True)
    elif precision == "tf32":
        print(f"[train] train_precision tf32: {device.type} has no TF32 tensor cores; training runs in fp32 "
              "(run.json records fp32)", flush=True)
    return "tf32" if tf32_in_effect(device) else "fp32"


def autocast(precision: str, device: torch.device) -> AbstractContextManager:
    """The context of the losses' forwards: ``torch.autocast`` in ``precision``'s type, or nothing (fp32, tf32)."""
    dtype = AUTOCAST_DTYPES.get(check(precision))
    return contextlib.nullcontext() if dtype is None else torch.autocast(device.type, dtype=dtype)


def full_precision(like: torch.Tensor) -> AbstractContextManager:
    """Autocast switched off on ``like``'s device type inside (nothing to switch off: no context at all, so an fp32
    run is untouched): what must stay float32 under a bf16 run, the gradient penalty's double backward."""
    kind = like.device.type
    return torch.autocast(kind, enabled=False) if torch.is_autocast_enabled(kind) else contextlib.nullcontext()
