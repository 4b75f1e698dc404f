"""Helpers shared by the benchmarks: timing with device synchronisation, what the device is, and the JSON record
(device, versions, date, git commit) every benchmark stores under results/bench/."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path
from typing import Any, Callable

import torch


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn: Callable, *args: Any, device: torch.device, **kwargs: Any) -> tuple[float, Any]:
    """(seconds, result) of ``fn(*args, **kwargs)``, the device synchronised before and after."""
    synchronize(device)
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    synchronize(device)
    return time.perf_counter() - start, out


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (else platform's processor string)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_info(device: torch.device) -> dict[str, Any]:
    """What the figures were measured on: the device's name and, for a GPU, its memory, capability, CUDA and
    cuDNN versions and the TF32 switches (they set which peak applies); for the CPU, the model, the threads
    torch uses and the load average (other processes on the machine slow the figures down)."""
    info: dict[str, Any] = {"type": device.type, "cpu_model": cpu_model(), "cpu_count": os.cpu_count(),
                            "torch_threads": torch.get_num_threads()}
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update(name=torch.cuda.get_device_name(device), memory_gib=round(props.total_memory / 2 ** 30, 1),
                    capability=f"{props.major}.{props.minor}", multiprocessors=props.multi_processor_count,
                    cuda=torch.version.cuda, cudnn=torch.backends.cudnn.version(),
                    tf32_matmul=torch.backends.cuda.matmul.allow_tf32, tf32_cudnn=torch.backends.cudnn.allow_tf32)
    else:
        info["name"] = f"{info['cpu_model']} ({torch.get_num_threads()} threads)"
    try:
        info["load_average_1_5_15min"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    return info


def write_record(path: str | Path, figures: dict[str, Any], args: dict[str, Any], device: torch.device,
                 at_start: dict[str, Any] | None = None) -> Path:
    """Store ``figures`` with the device (``at_start``: ``device_info`` taken when the benchmark began; the load
    average at the end is added) and provenance (git commit, versions, UTC date, the arguments) as JSON,
    atomically; returns the path."""
    from hmogbench.provenance import provenance, write_json_atomic

    device_record = dict(at_start or device_info(device))
    try:
        device_record["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    write_json_atomic(path, {**figures, "device": device_record, "provenance": provenance(args, device)})
    return Path(path)
