"""Metrics records of a workflow run -> one row per (space, model, seed) -> mean and std over seeds.

A record is the JSON ``hmogbench score --precomputed`` writes: the feature space, the distance's name,
FD and k-NN percentages, KID, precision/recall/density/coverage under ``prdc``, and, under ``fake_source``, the
sidecar of the samples (the run's TrainConfig, so its model, data set and seed; and the training precision that
ran, fp32 in records without it). KID and P/R/D/C are NaN in a row whose record lacks them (written by an older
hmogbench); a mean over seeds with any NaN is NaN ('--').
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..registry.feature_spaces import SPACES
from ..registry import train_precisions as precision

METRICS = ("knn_real", "knn_fake", "fd")  # the thesis's columns: 5-NN Real, 5-NN Fake, FID (percent, percent, -)
PRDC = ("precision", "recall", "density", "coverage")  # a record's ``prdc`` entry (metrics/prdc.py)
EXTENDED = ("fd", "kid", "knn_real", "knn_fake", *PRDC)  # the extended table's columns (tables/extended.py)
STD_DDOF = 0  # population std, NumPy's default (the thesis does not say which; its notebooks are not public)


def read_record(path: str | Path) -> dict:
    """One metrics file -> a flat row: space, fd_name, weights_status, dataset, model, seed, train_precision, the
    ``EXTENDED`` metrics (KID and P/R/D/C NaN where the record lacks them), sizes (n_real, n_fake, and feature_dims,
    None in records written before it was recorded)."""
    path = Path(path)
    try:
        rec = json.loads(path.read_text())
        config = rec["fake_source"]["config"]
        weights = rec.get("weights") or {}
        row = {"space": rec["features"], "fd_name": rec["fd_name"], "weights_status": weights.get("status"),
               "weights_sha256": weights.get("sha256"), "dataset": config["dataset"], "model": config["model"],
               "seed": int(config["seed"]), "steps": rec["fake_source"].get("steps_trained"),
               "train_precision": precision.recorded(rec["fake_source"]),
               "selection": _selection(rec["fake_source"]),
               "knn_real": float(rec["knn_real_pct"]), "knn_fake": float(rec["knn_fake_pct"]),
               "fd": float(rec["fd"]), "n_real": int(rec["n_real"]), "n_fake": int(rec["n_fake"]),
               "feature_dims": None if rec.get("feature_dims") is None else int(rec["feature_dims"]),
               "file": str(path), **_beyond_the_thesis(rec)}
    except FileNotFoundError:
        raise FileNotFoundError(f"metrics file {path} does not exist") from None
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a metrics record of `hmogbench score --precomputed` "
                         f"(missing or bad {exc})") from None
    if row["space"] not in SPACES:
        raise ValueError(f"{path}: feature space {row['space']!r} is not one of {', '.join(SPACES)}")
    return row


def _beyond_the_thesis(rec: dict) -> dict:
    """KID's mean and P/R/D/C of a record as floats, NaN where it has none."""
    prdc = rec.get("prdc") or {}
    return {"kid": np.nan if rec.get("kid_mean") is None else float(rec["kid_mean"]),
            **{m: np.nan if prdc.get(m) is None else float(prdc[m]) for m in PRDC}}


def _selection(source: dict) -> str:
    """'final' (the run's final generator), or how the snapshot the record scores was chosen (``hmogbench
    evaluate --select best``: its ``fake_source["selected"]``)."""
    chosen = source.get("selected")
    if not chosen:
        return "final"
    return f"lowest FD in {chosen['space']} ({chosen['images']} images) of its snapshots"


def selection_note(df: pd.DataFrame) -> str:
    """'' when every record scores its run's final generator (the default); else the sentence a caption needs:
    which snapshot each run's numbers come from (config ``select: best``)."""
    chosen = sorted(set(df.selection) - {"final"})
    if not chosen:
        return ""
    steps = ", ".join(str(s) for s in sorted({int(s) for s in df.steps if pd.notna(s)}))
    return (f"Each run's numbers are those of its snapshot of {'; '.join(chosen)} (select: best; steps {steps}), "
            "not of its final generator.")


def read_records(paths: list[str | Path], dataset: str) -> pd.DataFrame:
    """Rows of every file (all must be ``dataset``'s, of runs trained in one precision), one per (space, model,
    seed); outside fp32 training the distance's name says it ('FID [bf16 training]', ``precision.tag``), as it
    says the features' precision."""
    if not paths:
        raise ValueError(f"no metrics files given for {dataset}")
    df = pd.DataFrame([read_record(p) for p in paths])
    wrong = df[df.dataset != dataset]
    if len(wrong):
        raise ValueError(f"{wrong.file.iloc[0]}: a {wrong.dataset.iloc[0]} run, but the tables are {dataset}'s")
    dup = df[df.duplicated(["space", "model", "seed"], keep=False)]
    if len(dup):
        raise ValueError(f"two metrics files for {dup.space.iloc[0]} / {dup.model.iloc[0]} / seed "
                         f"{dup.seed.iloc[0]}: {sorted(dup.file)}")
    for space, group in df.groupby("space"):
        if group.weights_sha256.nunique(dropna=False) > 1:
            raise ValueError(f"{space}: metrics from different weights files are mixed "
                             f"({sorted(map(str, group.weights_sha256.unique()))})")
        if group.fd_name.nunique() > 1:  # e.g. fp32 and bf16 features (the name carries the precision)
            raise ValueError(f"{space}: metrics of different distances are mixed ({sorted(group.fd_name.unique())}); "
                             f"one table takes features of one precision")
    if df.train_precision.nunique() > 1:
        raise ValueError(f"metrics of runs trained in different precisions are mixed "
                         f"({', '.join(sorted(df.train_precision.unique()))}); one table takes one train_precision")
    df["fd_name"] = df.fd_name + precision.tag(df.train_precision.iloc[0])
    return df.sort_values(["space", "model", "seed"]).reset_index(drop=True)


def _mean(x: pd.Series) -> float:
    return x.mean(skipna=False)


def _std(x: pd.Series) -> float:
    return x.std(ddof=STD_DDOF, skipna=False) if len(x) > 1 else (0.0 if x.notna().all() else np.nan)


def aggregate(df: pd.DataFrame) -> pd.DataFrame:
    """Mean and std over seeds per (space, model): columns <metric>_mean, <metric>_std for every ``EXTENDED``
    metric (NaN where any seed's record lacks it), seeds, n_seeds, steps, n_images."""
    grouped = df.groupby(["space", "model"], sort=False)
    out = grouped[list(EXTENDED)].agg([_mean, _std])
    out.columns = [f"{metric}{stat}" for metric, stat in out.columns]
    out["seeds"] = grouped.seed.apply(lambda s: ",".join(map(str, sorted(s))))
    out["n_seeds"] = grouped.seed.size()
    out["steps"] = grouped.steps.apply(lambda s: ",".join(sorted({str(v) for v in s})))
    out["n_images"] = grouped.n_fake.min()
    return out
