"""FD over training: what ``hmogbench evaluate --over-training-out`` asks, the file it writes, and the best step.

A run trained with ``eval_every`` keeps generator snapshots (``training.snapshots``). The evaluation job scores
each in one feature space with fewer samples (``count``, against as many real features: the first ``count`` of
the real set's feature file, i.e. the features of the first ``count`` real test images) and writes, per run, one
JSON file: a list of metrics records, by step, each the record ``hmogbench evaluate`` writes (FD, KID, k-NN and
whatever else ``metrics.score.score_features`` gives) with ``"step"``, the generator step of its snapshot.
The last record (the run's final step) is the normal record of that space and sample count.

``select='best'``: the run's normal records (every space, every sample) are made from its snapshot of lowest FD
in this file instead of its final generator, and their ``fake_source["selected"]`` says so (``selection``).
The choice is made on the same real test images that the tables then score it on: optimistic, like any
best-of-training number; the default, 'final', is what a run ends with.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..runtime.provenance import write_json_atomic

SELECT = ("final", "best")  # which generator of a run its normal records score


@dataclass(frozen=True)
class OverTrainingSettings:
    """Scoring a run's snapshots. ``out``: a pattern with ``{seed}`` (also ``{space}``, ``{dataset}``,
    ``{model}``), one JSON list of records per run; ``count``: samples per snapshot and real features compared
    (at most the job's sample count); ``select``: one of ``SELECT``."""

    out: str
    space: str
    count: int = 1000
    select: str = "final"


def check_over_training(settings: OverTrainingSettings) -> None:
    """``count`` and ``select`` in range (one-line errors naming the option); the pattern: ``job.check_settings``."""
    if settings.count < 1:
        raise ValueError(f"--over-training-count must be at least 1, got {settings.count}")
    if settings.select not in SELECT:
        raise ValueError(f"--select: expected one of {', '.join(SELECT)}, got {settings.select!r}")


def read_over_training(path: str | Path) -> dict[int, dict]:
    """A run's over-training file -> {step: record}; {} when it is missing or not such a file (then rescored)."""
    try:
        records = json.loads(Path(path).read_text())
        return {int(record["step"]): record for record in records}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def write_over_training(path: str | Path, records: list[dict]) -> Path:
    """The records (each with ``"step"``) as one JSON list by step, atomically."""
    write_json_atomic(path, sorted(records, key=lambda record: record["step"]))
    return Path(path)


def best_record(records: list[dict]) -> dict:
    """The record of lowest FD (the earliest step among equals)."""
    return min(records, key=lambda record: (record["fd"], record["step"]))


def selection(records: list[dict], settings: OverTrainingSettings) -> dict:
    """What ``select='best'`` chose, for the normal records' ``fake_source["selected"]``: the rule, the snapshot's
    step and file, its FD and how it was measured (space, images), and the steps it was chosen from."""
    best = best_record(records)
    return {"rule": "best", "by": "fd", "space": settings.space, "images": best["n_fake"], "step": best["step"],
            "fd": best["fd"], "generator": best["fake_source"]["generator"],
            "steps": sorted(record["step"] for record in records)}
