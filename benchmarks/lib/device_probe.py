"""What the figures were measured on (the benchmarks' one device probe), and the FLOP/s ceiling that a FLOP
lower bound divides by."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from typing import Any

import torch
from hmogbench.runtime.provenance import cpu_model  # one definition (also device_name), re-used here

MODULES = ("torchvision", "scipy", "tqdm", "tabulate", "yaml", "matplotlib", "PIL", "sklearn", "pandas", "jinja2",
           "pytorch_fid", "mlxtend", "triton")


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (None where the system has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def device_info(device: torch.device) -> dict[str, Any]:
    """The device's name and, for a GPU, its memory (GiB), capability, CUDA and cuDNN versions and the TF32
    switches (they set which peak applies); for the CPU, the model and the threads torch uses; the load average
    (other processes on the machine slow the figures down)."""
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
    if load_average() is not None:
        info["load_average_1_5_15min"] = load_average()
    return info


def _nvidia_smi() -> list[str] | str | None:
    if not shutil.which("nvidia-smi"):
        return None
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv"],
                             capture_output=True, text=True, timeout=30)
        return (out.stdout or out.stderr).strip().splitlines()
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{type(exc).__name__}: {exc}"


def _module_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in MODULES:
        try:
            versions[name] = getattr(__import__(name), "__version__", "present")
        except Exception:  # noqa: BLE001  a module that fails to import is as absent as a missing one
            versions[name] = None
    return versions


def environment(device: torch.device) -> dict[str, Any]:
    """``device_info`` and everything else a first look at a lent machine needs: Python, platform, torch and
    CUDA, the GPU even when ``device`` is the CPU, the TF32 flags before hmogbench's policy, nvidia-smi, the
    numerics hmogbench sets, the optional modules present, and the datasheet peaks that apply."""
    from hmogbench.runtime.device import numerics_record, set_numerics
    from hmogbench.training.flops import device_peaks

    info: dict[str, Any] = {"python": sys.version.split()[0], "executable": sys.executable,
                            "platform": platform.platform(), "torch": torch.__version__,
                            "torch_cuda": torch.version.cuda, "cuda_available": torch.cuda.is_available(),
                            "device_used": str(device),
                            "gpu_name": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
                            "tf32_flags_at_start": {"matmul.allow_tf32": torch.backends.cuda.matmul.allow_tf32,
                                                    "cudnn.allow_tf32": torch.backends.cudnn.allow_tf32,
                                                    "cudnn.benchmark": torch.backends.cudnn.benchmark,
                                                    "float32_matmul_precision": torch.get_float32_matmul_precision()},
                            "nvidia_smi": _nvidia_smi(), "modules": _module_versions(),
                            "device": device_info(device)}
    info["hmogbench_numerics_policy"] = set_numerics()
    info["hmogbench_numerics_record"] = numerics_record(device)
    entry, peaks = device_peaks(info["gpu_name"]) if info["gpu_name"] else (None, None)
    info["flops_peak_entry"] = {"entry": entry, "peaks": peaks, "source": "hmogbench.training.flops.device_peaks"}
    return info


def ceiling(device: torch.device, measure_cpu: bool = True) -> dict:
    """The FLOP/s a lower bound divides by, ``{"source", "flops_per_s"}``: the datasheet's dense peaks per
    precision on a known GPU (``hmogbench.training.flops.DEVICE_PEAKS``); on the CPU the measured fp32 matmul rate
    (``measure_cpu``; seconds of 2048x2048 products), else none."""
    from hmogbench.training.flops import device_peaks, measured_matmul_flops

    if device.type == "cuda":
        entry, peaks = device_peaks(torch.cuda.get_device_name(device))
        return {"source": f"datasheet, dense ({entry})" if peaks else "unknown device: no datasheet peak",
                "flops_per_s": peaks}
    if not measure_cpu:
        return {"source": "cpu: not measured", "flops_per_s": None}
    return {"source": "measured fp32 matmul (2048 x 2048) on this CPU; no datasheet peak",
            "flops_per_s": {"fp32_matmul": round(measured_matmul_flops(device), -6)}}
