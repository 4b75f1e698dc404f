"""The one device and numerics policy of every command, rule and benchmark.

- ``resolve_device``: 'auto' (or nothing) -> ``cuda`` when torch sees a GPU, else ``cpu``; anything else must
  be a torch device string (``cpu``, ``cuda``, ``cuda:1``, ``mps``); a bad value is a one-line ValueError.
- ``set_numerics``: the float32 switches set explicitly, never left to the library's defaults: TF32 tensor
  cores off for matmuls and convolutions (so "fp32" on a GPU *is* IEEE float32, as on the authors' pre-Ampere
  GPUs), cuDNN autotuning off, ``torch.set_float32_matmul_precision('highest')``. TF32 is opt-in, by
  ``HMOGBENCH_TF32=1`` or ``--precision tf32`` of the feature commands, and then named in the outputs.
- ``numerics_record``: those switches as every provenance record stores them.
"""

from __future__ import annotations

import os

import torch

TF32_ENV_VAR = "HMOGBENCH_TF32"
DEVICE_HELP = "torch device: auto (cuda if available, else cpu; the default), cpu, cuda or cuda:N"


def resolve_device(requested: str | torch.device | None = "auto") -> torch.device:
    """The device ``requested`` names; 'auto' / None / '' -> cuda if available, else cpu.

    Raises ValueError naming the value when it is not a device, or names a GPU this machine lacks."""
    if isinstance(requested, torch.device):
        return requested
    text = (requested or "auto").strip()
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(text)
    except RuntimeError:
        raise ValueError(f"device {text!r}: expected auto, cpu, cuda, cuda:N or another torch device type") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {text!r}: torch sees no CUDA GPU here (use auto or cpu)")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ValueError(f"device {text!r}: only {torch.cuda.device_count()} CUDA device(s) visible")
    return device


def tf32_requested() -> bool:
    """Whether the opt-in TF32 switch is on in the environment ($HMOGBENCH_TF32 = 1)."""
    value = os.environ.get(TF32_ENV_VAR, "0").strip()
    if value not in ("0", "1", ""):
        raise ValueError(f"${TF32_ENV_VAR}={value!r}: expected 0 or 1")
    return value == "1"


def set_numerics(tf32: bool | None = None) -> dict:
    """Set torch's float32 switches explicitly (``tf32`` None: from $HMOGBENCH_TF32); returns the record."""
    tf32 = tf32_requested() if tf32 is None else bool(tf32)
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cudnn.benchmark = False
    torch.set_float32_matmul_precision("high" if tf32 else "highest")
    return numerics_record()


def numerics_record(device: str | torch.device | None = None) -> dict:
    """The float32 switches in force now (and, given a device, whether TF32 applies on it)."""
    record = {"tf32_matmul": torch.backends.cuda.matmul.allow_tf32, "tf32_cudnn": torch.backends.cudnn.allow_tf32,
              "cudnn_benchmark": torch.backends.cudnn.benchmark,
              "cudnn_deterministic": torch.backends.cudnn.deterministic,
              "float32_matmul_precision": torch.get_float32_matmul_precision()}
    if device is not None:
        record["tf32_in_effect"] = tf32_in_effect(device)
    return record


def tf32_in_effect(device: str | torch.device) -> bool:
    """Whether float32 work on ``device`` may run on TF32 tensor cores under the current switches."""
    on_gpu = torch.device(device).type == "cuda"
    return on_gpu and (torch.backends.cuda.matmul.allow_tf32 or torch.backends.cudnn.allow_tf32)


def prepare_device(requested: str | torch.device | None = "auto", tf32: bool | None = None) -> torch.device:
    """``resolve_device`` then ``set_numerics``: what every command calls before touching a tensor."""
    device = resolve_device(requested)
    set_numerics(tf32)
    return device
