"""What ``hmogbench train`` checks before it loads any data or builds any model: each a one-line error naming
the value and what is expected, or a one-line notice.

- ``--out``: a run directory, new or existing; a file there (or above it) is refused.
- memory: a lower bound of what training holds, from the models' shapes (built on the meta device: an HME-30's
  4.5e12-parameter head costs nothing to count): G's and D's fp32 parameters, their gradients and Adam's
  states (two, three with AMSGrad), times the seeds trained at once; refused above the device's memory (CPU:
  physical RAM; CUDA: the free memory ``torch.cuda.mem_get_info`` reports).
- length: a lower bound of the run's time, ``flops.step_flops`` (exact) x the steps / the device's rate. A CPU's
  rate is taken as ``CPU_FLOPS_PER_THREAD`` x torch's threads, above the best rate ever measured here
  (results/bench/train_cpu.json, tests/test_user_errors.py checks it), so the estimate errs short; a known GPU's
  is its fp32 datasheet peak (``flops.DEVICE_PEAKS``; TF32's with ``HMOGBENCH_TF32=1``). On a CPU, a run
  without ``steps`` (the authors' full length) estimated over ``CPU_LIMIT_S`` is refused unless
  ``--full-length`` asks for it (the workflow passes it when its config's ``steps`` is null).
- a model in none of the thesis's tables (HME-9, ME-7, ...): a notice with the estimated time; nothing to
  compare it with.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from ..models.generator import build_discriminator, build_generator
from ..registry.published import load_published
from ..runtime.device import tf32_requested
from .config import ConfigError, TrainConfig
from .flops import device_peaks, step_flops
from .groups import batching_unsupported
from .progress import format_duration

# FLOP/s per torch thread on a CPU: above the best measured, 264 GFLOP/s on 2 threads (132 per thread; HME-5 at
# 64x64, batch 32, results/bench/train_cpu.json, an AMD EPYC), so that a time estimated with it is a lower bound
CPU_FLOPS_PER_THREAD = 150e9
CPU_LIMIT_S = 3600.0  # without steps, on a CPU: refused above this estimate unless --full-length
FLOAT32_BYTES = 4


def check_training(cfg: TrainConfig, out: str | Path, seeds: list[int] | None = None, batch: bool = True,
                   full_length: bool = False) -> list[str]:
    """Every check above for ``cfg`` trained into ``out`` on ``cfg.device`` (resolved), once or once per seed of
    ``seeds`` (batched together with ``batch`` where the model allows it, as ``train_seeds`` does). Raises
    ValueError (``ConfigError`` for the config's values) with one line; returns the notices to print."""
    device, runs = torch.device(cfg.device), len(seeds or [cfg.seed])
    at_once = runs if batch and batching_unsupported(cfg) is None else 1
    check_out_dir(out)
    check_memory(cfg, device, at_once)
    seconds = estimated_seconds(cfg, device)
    seconds = None if seconds is None else seconds * runs
    steps = f"{cfg.resolved_steps:,} generator steps" + (f" x {runs} seeds" if runs > 1 else "")
    check_length(cfg, device, seconds, steps, full_length)
    notice = thesis_notice(cfg, device, seconds, steps)
    return [notice] if notice else []


def check_out_dir(out: str | Path) -> None:
    """``out`` may be a directory or not exist yet; a file at it or at the first existing folder above is refused."""
    for path in (Path(out), *Path(out).parents):
        if path.is_dir():
            return
        if path.exists():
            where = "is a file" if path == Path(out) else f"lies under the file {path}"
            raise ValueError(f"--out {out} {where}; expected a run directory (new or existing)")


def parameter_count(cfg: TrainConfig) -> int:
    """Parameters of ``cfg``'s G and D, counted on the meta device (no memory)."""
    with torch.device("meta"):
        G = build_generator(cfg.spec, cfg.image_size, cfg.channels, cfg.z_dim, megan_tau=cfg.megan_tau)
        D = build_discriminator(cfg.spec, cfg.image_size, cfg.channels, norm=cfg.d_norm)
    return sum(p.numel() for module in (G, D) for p in module.parameters())


def training_bytes(cfg: TrainConfig, at_once: int = 1) -> int:
    """Lower bound of training's memory in bytes: fp32 parameters, gradients and Adam's states, per run x runs."""
    adam_states = 3 if cfg.amsgrad else 2
    return parameter_count(cfg) * FLOAT32_BYTES * (2 + adam_states) * at_once


def device_memory(device: torch.device) -> tuple[int, str] | None:
    """(bytes, what they are) training may use on ``device``; None where unknown (other device types)."""
    if device.type == "cpu":
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"), "physical memory"
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0], "free GPU memory"
    return None


def check_memory(cfg: TrainConfig, device: torch.device, at_once: int = 1) -> None:
    needed, limit = training_bytes(cfg, at_once), device_memory(device)
    if limit is not None and needed > limit[0]:
        runs = f" x {at_once} seeds at once" if at_once > 1 else ""
        raise ConfigError(
            f"config key 'model' = {cfg.model!r}: training needs at least {needed / 2**30:,.1f} GiB "
            f"({parameter_count(cfg):,} parameters of G and D in fp32, their gradients and Adam's states{runs}), "
            f"more than the {limit[0] / 2**30:,.1f} GiB {limit[1]} of {device}; expected a model that fits (a smaller "
            "size)")


def flops_per_second(device: torch.device) -> tuple[float, str] | None:
    """(the rate a time estimate divides by, where it comes from); None for a device without a known rate."""
    if device.type == "cpu":
        threads = torch.get_num_threads()
        return CPU_FLOPS_PER_THREAD * threads, f"{threads} CPU threads at {CPU_FLOPS_PER_THREAD / 1e9:.0f} GFLOP/s"
    if device.type == "cuda":
        name, peaks = device_peaks(torch.cuda.get_device_name(device))
        precision = "tf32" if tf32_requested() else "fp32"
        return (peaks[precision], f"the {name}'s {precision} peak") if peaks else None
    return None


def estimated_seconds(cfg: TrainConfig, device: torch.device) -> float | None:
    """Lower bound of one run's time on ``device`` (None where the device's rate is unknown)."""
    rate = flops_per_second(device)
    return None if rate is None else step_flops(cfg) * cfg.resolved_steps / rate[0]


def check_length(cfg: TrainConfig, device: torch.device, seconds: float | None, steps: str, full_length: bool
                 ) -> None:
    """``seconds``: the estimate of all the runs (lower bound); ``steps``: the runs' steps in words."""
    if device.type != "cpu" or cfg.steps is not None or full_length or seconds is None or seconds <= CPU_LIMIT_S:
        return
    raise ConfigError(
        f"config key 'steps' not given: {cfg.model} would train the authors' full length, {steps}, at least "
        f"{format_duration(seconds)} on this CPU ({flops_per_second(device)[1]}); "
        "expected --set steps=N for a shorter run, or --full-length to train it all")


def thesis_notice(cfg: TrainConfig, device: torch.device, seconds: float | None, steps: str) -> str | None:
    """A notice for a model in none of the thesis's tables; None for a model that has a published row."""
    if cfg.model in {row["model"] for row in load_published()}:
        return None
    time = f"at least {format_duration(seconds)}" if seconds is not None else "time unknown"
    return (f"[train] note: {cfg.model} is in none of the thesis's Tables 5.3-5.12 (no published number to compare "
            f"with); {steps}, {time} on {device}")
