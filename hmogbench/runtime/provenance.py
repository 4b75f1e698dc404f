"""Atomic file writes and the provenance stamped on every result (code version, library versions)."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from .. import __version__
from .lock import installed_version, lock_record


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path``, on error delete it.

    Readers never see a half-written file, and a killed writer leaves at most a ``.tmp`` file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the permissions open() would
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(path: str | Path, values: Any) -> None:
    write_text_atomic(path, json.dumps(values, indent=2, sort_keys=True, default=str) + "\n")


def torch_save_atomic(obj: Any, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def file_digest(path: Path, algorithm: str = "md5") -> str:
    """Hex digest of a file's bytes, read in chunks (md5 for raw files, sha256 for prepared arrays)."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def git_commit() -> str | None:
    """HEAD of the repository this package runs from, '+dirty' if it has local changes; None outside git."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=10)
        return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


# distributions whose running versions every record names (the full set is pinned in the lock)
RECORDED_DISTRIBUTIONS = ("torchvision", "scipy", "pytorch-fid", "scikit-learn", "pillow", "snakemake")


def versions() -> dict[str, str | None]:
    """Versions actually imported / installed here (None: not installed), beside the lock's hash."""
    return {
        "hmogbench": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "numpy": np.__version__,
        **{name: installed_version(name) for name in RECORDED_DISTRIBUTIONS},
        "platform": platform.platform(),
    }


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (else platform's processor string), e.g. 'AMD EPYC'."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_name(device: str | torch.device) -> str:
    """'NVIDIA H200' for a GPU, 'cpu (AMD EPYC, 2 threads)' for the CPU ('auto' resolved first)."""
    from .device import resolve_device

    device = resolve_device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({cpu_model()}, {torch.get_num_threads()} threads)"


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def provenance(config: dict[str, Any] | None = None, device: str | torch.device = "cpu") -> dict[str, Any]:
    """What produced a result: config, git commit, versions, the lock file's hash (and any installed package
    that differs from it), device, the float32 switches (hmogbench/runtime/device.py) and UTC time."""
    from .device import numerics_record, resolve_device

    device = resolve_device(device)

    lock = lock_record()
    return {
        "config": config,
        "git_commit": git_commit(),
        "versions": versions(),
        "lock": {"file": lock["file"], "sha256": lock["sha256"], "differs": lock["differs"]},
        "device": device_name(device),
        "numerics": numerics_record(device),
        "time_utc": utc_now(),
    }
