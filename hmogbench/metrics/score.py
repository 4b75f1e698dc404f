"""The metrics API: Fréchet distance and k-NN scores of a real and a fake image set in one feature space.

Every result names its feature space and calls the distance "FID" only for ``fid-inception`` with
accepted weights; otherwise "FD (<space>)", or "FD (unverified weights)" for any weights file whose sha256
is not in ``weights.ACCEPTED``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

from .cache import cached_features
from .features import extract_features
from .fid import fid_from_features
from .inputs import load_images
from .knn import RULES, knn_score
from .spaces import Extractor, load_space


def fd_name(extractor: Extractor) -> str:
    """'FID', 'FD (<space>)' or 'FD (unverified weights)'; ' [bf16 features]' (or fp16) appended when the
    network ran in reduced precision (opt-in)."""
    if extractor.weights is not None and not extractor.weights.verified:
        name = "FD (unverified weights)"
    else:
        name = "FID" if extractor.space.name == "fid-inception" else f"FD ({extractor.space.name})"
    return name if extractor.precision == "fp32" else f"{name} [{extractor.precision} features]"


def score_features(real: np.ndarray, fake: np.ndarray, *, k: int = 5, rule: str = "soft",
                   device: str | torch.device = "cpu", progress: bool = False) -> dict:
    """Fréchet distance and k-NN scores (percent) of feature sets real (N_r, D) and fake (N_f, D)."""
    if len(real) != len(fake):
        warnings.warn(f"real and fake sets differ in size ({len(real)} vs {len(fake)}): the k-NN scores' "
                      "50% chance level assumes equal sizes", stacklevel=2)
    knn = knn_score(real, fake, k, rule=rule, device=device, progress=progress)
    return {"fd": fid_from_features(real, fake), "knn_k": knn.k, "knn_rule": knn.rule,
            "knn_real_pct": knn.real_pct, "knn_fake_pct": knn.fake_pct,
            "n_real": int(len(real)), "n_fake": int(len(fake)), "feature_dims": int(real.shape[1])}


def score(real: str | Path | np.ndarray | torch.Tensor, fake: str | Path | np.ndarray | torch.Tensor, *,
          features: str | Extractor = "fid-inception", k: int = 5, rule: str = "soft",
          weights: str | Path | None = None, device: str | torch.device = "cpu", batch_size: int = 50,
          cache_dir: str | Path | None = None, progress: bool = False, allow_download: bool = False,
          precision: str = "fp32", channels_last: bool = False, compile_mode: str | None = None) -> dict:
    """Score ``fake`` against ``real`` (each an image set as ``inputs.load_images`` takes).

    Returns a dict: ``features`` (space), ``fd_name``, ``fd``, ``knn_k``, ``knn_rule``, ``knn_real_pct``,
    ``knn_fake_pct`` (percent), ``n_real``, ``n_fake``, ``feature_dims``, ``weights`` (path, sha256, status;
    None for pixels), ``precision`` and ``real_cache`` (the cache entry of the real features, or None without
    ``cache_dir``). ``precision``, ``channels_last``, ``compile_mode``: opt-in speed (``spaces.load_space``)."""
    if rule not in RULES or k < 1:  # checked before the long feature extraction
        raise ValueError(f"k-NN: expected k >= 1 and rule in {RULES}, got k={k}, rule={rule!r}")
    extractor = features if isinstance(features, Extractor) else load_space(
        features, weights=weights, device=device, allow_download=allow_download, precision=precision,
        channels_last=channels_last, compile_mode=compile_mode)
    real_images, fake_images = load_images(real, progress=progress), load_images(fake, progress=progress)
    if extractor.space.name == "pixels" and real_images.shape[1:] != fake_images.shape[1:]:
        raise ValueError(f"pixels: real and fake images differ in shape (C, H, W): "
                         f"{tuple(real_images.shape[1:])} vs {tuple(fake_images.shape[1:])}")
    if cache_dir is not None:
        real_features, entry, _ = cached_features(real_images, extractor, cache_dir, batch_size=batch_size,
                                                  progress=progress, desc="real features")
    else:
        real_features, entry = extract_features(real_images, extractor, batch_size=batch_size, progress=progress,
                                                desc="real features"), None
    fake_features = extract_features(fake_images, extractor, batch_size=batch_size, progress=progress,
                                     desc="fake features")
    result = {"features": extractor.space.name, "fd_name": fd_name(extractor)}
    result |= score_features(real_features, fake_features, k=k, rule=rule, device=extractor.device,
                             progress=progress)
    result["weights"] = extractor.weights.as_dict() if extractor.weights else None
    result["precision"] = extractor.precision
    result["real_cache"] = str(entry) if entry else None
    return result
