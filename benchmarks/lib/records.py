"""What a benchmark stores: the JSON record under results/bench/ (figures, device, provenance: git commit,
versions, the lock's hash, UTC date, the arguments), written atomically; the JSON-lines log that a budgeted
check appends to line by line; a failure as a record."""

from __future__ import annotations

import json
import math
import os
import traceback
from pathlib import Path
from typing import Any

import torch


def write_record(path: str | Path, figures: dict[str, Any], args: dict[str, Any], device: torch.device,
                 at_start: dict[str, Any] | None = None) -> Path:
    """Store ``figures`` with the device (``at_start``: ``device_probe.device_info`` taken when the benchmark
    began; the load average at the end is added) and provenance (``hmogbench.runtime.provenance``) as JSON, atomically;
    returns the path."""
    from benchmarks.lib.device_probe import device_info, load_average
    from hmogbench.runtime.provenance import provenance, write_json_atomic

    device_record = dict(at_start or device_info(device))
    if load_average() is not None:
        device_record["load_average_at_end"] = load_average()
    write_json_atomic(path, {**figures, "device": device_record, "provenance": provenance(args, device)})
    return Path(path)


def error_record(exc: BaseException) -> dict:
    """A failure as data: its type, message, the module an ImportError missed, and its traceback's last lines."""
    lines = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).strip().splitlines()
    missing = getattr(exc, "name", None) if isinstance(exc, ImportError) else None
    return {"type": type(exc).__name__, "message": str(exc)[:2000], "missing_module": missing,
            "traceback": lines[-12:]}


def _jsonable(value: Any) -> Any:
    """A value ``json`` cannot write, as one it can (numpy scalars as numbers, paths and torch types as text)."""
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        return value.item()
    if isinstance(value, (Path, torch.device, torch.dtype)):
        return str(value)
    return repr(value)


def finite(value: Any) -> Any:
    """``value`` with every NaN or infinity (recursively, numpy scalars as numbers) replaced by None: strict
    JSON."""
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


class JsonLines:
    """Appends one JSON object per line to ``path``, flushed and fsynced at once (a run cut off keeps every
    line written); ``lines``: the objects written."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(path, "a", encoding="utf-8")
        self.lines: list[dict] = []

    def write(self, record: dict) -> None:
        record = finite(record)
        self.fh.write(json.dumps(record, default=_jsonable, allow_nan=False) + "\n")
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.lines.append(record)

    def close(self) -> None:
        self.fh.close()
