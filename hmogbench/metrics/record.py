"""The result of scoring a fake feature set against a real set's feature file, as every metrics record holds it.

``hmogbench score --precomputed`` and ``hmogbench evaluate`` both build their records here, so the workflow's
metrics files have one shape whichever command wrote them.
"""

from __future__ import annotations

import numpy as np
import torch

from .score import score_features


def check_same_space(real: str, real_meta: dict, fake: str, fake_meta: dict) -> None:
    """Two feature sets must share the space, the distance's name and the weights file (sha256)."""
    for key in ("features", "fd_name"):
        if real_meta[key] != fake_meta[key]:
            raise ValueError(f"{real} and {fake} differ in {key}: {real_meta[key]!r} vs {fake_meta[key]!r}")
    weights = [(m.get("weights") or {}).get("sha256") for m in (real_meta, fake_meta)]
    if weights[0] != weights[1]:
        raise ValueError(f"{real} and {fake} come from different weights files (sha256 {weights[0]} vs {weights[1]})")


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
