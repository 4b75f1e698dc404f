"""The tidy rows of a committed example (``hmogbench example``): one row per scored generator -- each snapshot of
FD over training (``kind`` 'snapshot') and each run's final generator in every space (``kind`` 'final') -- in
the columns of ``COLUMNS`` (compare_gan's results rows), read from the records ``hmogbench evaluate`` wrote.

Units: ``fd`` in the space's distance (FID in an Inception space), ``knn_*_pct`` in %, ``kid_mean`` as
torch-fidelity's, precision/recall/density/coverage as shares (density may exceed 1); ``n_*`` images.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from ..runtime.provenance import write_text_atomic

COLUMNS = ("dataset", "model", "seed", "step", "kind", "space", "fd_name", "n_fake", "n_real", "fd", "kid_mean",
           "knn_real_pct", "knn_fake_pct", "precision", "recall", "density", "coverage", "feature_precision")
KINDS = ("snapshot", "final")
PRDC = ("precision", "recall", "density", "coverage")


def read_records(path: str | Path) -> list[dict]:
    """A metrics file (one record) or an over-training file (a list of records), as a list; one-line errors."""
    path = Path(path)
    try:
        values = json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"metrics file {path} does not exist") from None
    except ValueError as exc:
        raise ValueError(f"{path}: not JSON ({exc})") from None
    records = values if isinstance(values, list) else [values]
    if not records or not all(isinstance(r, dict) and "fd" in r and "fake_source" in r for r in records):
        raise ValueError(f"{path}: expected metrics records of `hmogbench evaluate` (each with 'fd' and "
                         "'fake_source')")
    return records


def row(record: dict, kind: str) -> dict:
    """One record as a row of ``COLUMNS`` (``kind``: 'snapshot' or 'final')."""
    config = record["fake_source"]["config"]
    step = record.get("step", config.get("steps"))
    prdc = record.get("prdc") or {}
    return {"dataset": config.get("dataset"), "model": config["model"], "seed": int(config["seed"]),
            "step": int(step), "kind": kind, "space": record["features"], "fd_name": record["fd_name"],
            "n_fake": record["n_fake"], "n_real": record["n_real"], "fd": record["fd"],
            "kid_mean": record.get("kid_mean"), "knn_real_pct": record.get("knn_real_pct"),
            "knn_fake_pct": record.get("knn_fake_pct"), **{k: prdc.get(k) for k in PRDC},
            "feature_precision": record.get("precision", "fp32")}


def example_rows(over_training: list[str | Path], metrics: list[str | Path]) -> list[dict]:
    """Rows of the snapshots' records (over-training files) and the final records (metrics files), sorted by
    model, seed, kind, space and step."""
    rows = [row(r, "snapshot") for path in over_training for r in read_records(path)]
    rows += [row(r, "final") for path in metrics for r in read_records(path)]
    return sorted(rows, key=lambda r: (r["model"], r["seed"], KINDS.index(r["kind"]), r["space"], r["step"]))


def rows_csv(rows: list[dict]) -> str:
    """The rows as CSV text with the header ``COLUMNS`` (floats as written by Python: full precision)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_rows(path: str | Path, rows: list[dict]) -> Path:
    write_text_atomic(path, rows_csv(rows))
    return Path(path)


def read_rows(path: str | Path) -> list[dict]:
    """A committed rows CSV back as dicts of strings; a one-line error naming the file when its header is not
    ``COLUMNS``, it has no row, or a row lacks a value where every row has one (model, seed, step, kind, fd)."""
    path = Path(path)
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        header = tuple(reader.fieldnames or ())
    if header != COLUMNS:
        raise ValueError(f"{path}: expected the columns {', '.join(COLUMNS)}; got {', '.join(header) or 'none'}")
    required = ("model", "seed", "step", "kind", "fd")
    bad = [i for i, r in enumerate(rows, start=2) if any(not r[k] for k in required) or r["kind"] not in KINDS]
    if not rows or bad:
        raise ValueError(f"{path}: " + (f"line {bad[0]} lacks one of {', '.join(required)} or has an unknown kind"
                                        if bad else "no rows"))
    for line, r in enumerate(rows, start=2):
        try:
            float(r["fd"]), int(r["step"]), int(r["seed"])
        except ValueError:
            raise ValueError(f"{path}: line {line}: fd, step and seed must be numbers, got {r['fd']!r}, "
                             f"{r['step']!r}, {r['seed']!r}") from None
    return rows
