"""Timing on a device: synchronisation, one call, and the generator steps of a training run (the one step-timing
method of every benchmark); peak device memory."""

from __future__ import annotations

import time
from typing import Any, Callable

import torch


def synchronize(device: torch.device) -> None:
    """Wait for ``device``'s queued work (a no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn: Callable, *args: Any, device: torch.device, **kwargs: Any) -> tuple[float, Any]:
    """(seconds, result) of ``fn(*args, **kwargs)``, the device synchronised before and after."""
    synchronize(device)
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    synchronize(device)
    return time.perf_counter() - start, out


def time_steps(train: Callable[[Callable[[int], None]], object], warmup: int, steps: int, device: torch.device,
               barrier: Callable[[], None] | None = None) -> dict:
    """Run ``train(on_step)`` (``on_step`` called after every generator step) for at least warmup + steps steps.

    Returns seconds of each timed step (``steps``; wall) and this process's CPU seconds of each (``cpu_steps``),
    the first step (``first_step_seconds``: model build, compilation) and the warm-up (``warmup_seconds``), and
    the wall clock (``time.perf_counter``) at the timed steps' start and end (``window``). On CUDA the device is
    synchronised only where the warm-up and the timed steps end; a step's seconds come from CUDA events, so no
    host sync happens inside the timed steps. ``barrier`` runs once, just before the first timed step."""
    cuda = device.type == "cuda"
    stamps: list[float] = []
    cpu_stamps: list[float] = []
    events: list = []

    def mark() -> None:
        stamps.append(time.perf_counter())
        cpu_stamps.append(time.process_time())
        if cuda:
            events.append(torch.cuda.Event(enable_timing=True))
            events[-1].record()

    def on_step(step: int) -> None:
        if len(stamps) in (warmup, warmup + steps):  # this step ends the warm-up or the timed steps
            synchronize(device)
        if barrier is not None and len(stamps) == warmup:
            barrier()
        mark()

    if barrier is not None and warmup == 0:
        barrier()
    synchronize(device)
    mark()  # stamps[i + 1] - stamps[i]: generator step i
    train(on_step)
    synchronize(device)
    if len(stamps) < warmup + steps + 1:
        raise RuntimeError(f"the run did {len(stamps) - 1} generator steps, not warm-up {warmup} + timed {steps}")

    def seconds(i: int, j: int) -> float:
        return events[i].elapsed_time(events[j]) / 1000 if cuda else stamps[j] - stamps[i]

    timed_range = range(warmup, warmup + steps)
    return {"steps": [seconds(i, i + 1) for i in timed_range],
            "cpu_steps": [cpu_stamps[i + 1] - cpu_stamps[i] for i in timed_range],
            "first_step_seconds": seconds(0, 1), "warmup_seconds": stamps[warmup] - stamps[0],
            "window": (stamps[warmup], stamps[warmup + steps]),
            "timing": "CUDA events" if cuda else "time.perf_counter"}


def reset_peak_memory(device: torch.device) -> None:
    """Start a new peak of allocated device memory (CUDA; a no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_gib(device: torch.device) -> float | None:
    """Peak allocated device memory since ``reset_peak_memory``, GiB (None on the CPU)."""
    return round(torch.cuda.max_memory_allocated(device) / 2 ** 30, 4) if device.type == "cuda" else None
