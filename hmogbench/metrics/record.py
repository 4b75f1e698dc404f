"""The result of scoring a fake feature set against a real set's feature file, as every metrics record holds it.

``hmogbench score --precomputed`` and ``hmogbench evaluate`` both build their records here, so the workflow's
metrics files have one shape whichever command wrote them.
"""

from __future__ import annotations

import numpy as np
import torch

from .prdc import prdc_text
from .score import check_same_space, score_features  # check_same_space: re-exported for the callers


def scored_against_real(real_features: np.ndarray, real_meta: dict, fake_features: np.ndarray,
                        fake_source: dict | None, *, k: int = 5, rule: str = "soft",
                        device: str | torch.device = "cpu", progress: bool = False, **options) -> dict:
    """Scores of fake features (N_f, D) against real features (N_r, D) with the real file's sidecar
    ``real_meta``: space, distance name, weights and precision come from it; ``fake_source`` (the samples'
    sidecar) is kept as the record's ``fake_source``. ``options``: further ``score_features`` keywords."""
    result = {"features": real_meta["features"], "fd_name": real_meta["fd_name"]}
    result |= score_features(real_features, fake_features, k=k, rule=rule, device=device, progress=progress,
                             **options)
    return {**result, "weights": real_meta.get("weights"), "precision": real_meta.get("precision", "fp32"),
            "real_cache": None, "real_source": real_meta.get("source"), "fake_source": fake_source}


def summary(record: dict) -> str:
    """A record's scores on one line (``hmogbench evaluate`` prints it per record): the FD, the k-NN scores, KID
    and precision, recall, density and coverage (records of an older hmogbench without them: 'P/R/D/C n/a')."""
    prdc = record.get("prdc")
    return (f"{record['fd_name']} {record['fd']:.4f}, {record['knn_k']}-NN real {record['knn_real_pct']:.2f} %, "
            f"fake {record['knn_fake_pct']:.2f} %, KID {record['kid_mean']:.6f} ± {record['kid_std']:.6f}, "
            + (prdc_text(prdc) if prdc else "P/R/D/C n/a"))
