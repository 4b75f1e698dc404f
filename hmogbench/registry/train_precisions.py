"""The training precisions' names and how records and tables name them, torch-free (the tables import it).

``fp32`` is the faithful default; ``tf32`` and ``bf16`` are opt-in (``training.precision`` runs them). A record
(run.json, a generator file, a metrics record's ``fake_source``) without ``RECORD_KEY`` means fp32."""

from __future__ import annotations

from typing import Any

TRAIN_PRECISIONS = ("fp32", "tf32", "bf16")  # the config key's values; fp32 the faithful default
RECORD_KEY = "train_precision"  # in run.json, generator.pt, snapshots and the samples' sidecar (``fake_source``)


def check(precision: str) -> str:
    """``precision`` if it is one of ``TRAIN_PRECISIONS``; else a one-line ValueError naming it."""
    if precision not in TRAIN_PRECISIONS:
        raise ValueError(f"train_precision {precision!r}: expected one of {', '.join(TRAIN_PRECISIONS)}")
    return precision


def recorded(record: dict[str, Any] | None) -> str:
    """The training precision a record (run.json, a generator file, ``fake_source``) holds; absent: 'fp32'."""
    return (record or {}).get(RECORD_KEY) or "fp32"


def tag(precision: str) -> str:
    """What a table appends to the distance's name: '' for fp32, ' [bf16 training]' for bf16 (and tf32)."""
    return "" if check(precision) == "fp32" else f" [{precision} training]"
