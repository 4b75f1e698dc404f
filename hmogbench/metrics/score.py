"""The metrics API: Fréchet distance, k-NN scores, KID and precision/recall/density/coverage of a real and a fake
image set in one feature space.

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
from .fid import fid_from_features, frechet_distance, statistics
from .inputs import load_images
from .kid import SUBSET_SIZE, SUBSETS, capped_subset_size, check_kid_options, kid_score
from .knn import RULES, knn_score
from .prdc import check_sizes, prdc_score
from .spaces import Extractor, load_space
from .stats import is_statistics_file, read_statistics_file, refuse_as_fake


def fd_name(extractor: Extractor) -> str:
    """'FID', 'FD (<space>)' or 'FD (unverified weights)'; ' [bf16 features]' (or fp16) appended when the
    network ran in reduced precision (opt-in). The rules are the registry's ``FeatureSpace.fd_name``."""
    status = extractor.weights.status if extractor.weights is not None else None
    return extractor.space.fd_name(status, extractor.precision)


def score_features(real: np.ndarray, fake: np.ndarray, *, k: int = 5, rule: str = "soft",
                   device: str | torch.device = "cpu", progress: bool = False, kid_subsets: int = SUBSETS,
                   kid_subset_size: int = SUBSET_SIZE,
                   real_statistics: tuple[np.ndarray, np.ndarray] | None = None) -> dict:
    """Fréchet distance, k-NN scores (percent), KID and P/R/D/C of feature sets real (N_r, D) and fake (N_f, D).

    Keys: ``fd``, ``knn_k``, ``knn_rule``, ``knn_real_pct``, ``knn_fake_pct``, ``n_real``, ``n_fake``,
    ``feature_dims``, ``kid_mean``, ``kid_std``, ``kid`` (its parameters: ``kid.KidScore.parameters``; the
    subset size used is min(kid_subset_size, N_r, N_f), and ``kid["warning"]`` says when it was capped) and
    ``covariance_rank_deficient``: min(N_r, N_f) <= D, a covariance of rank <= N - 1 < D, so the FD is computed
    from a singular covariance; ``prdc``: precision, recall, density, coverage and their k (``prdc.PrdcScore``).
    ``real_statistics``: ``fid.statistics(real)`` computed once by a caller that scores many fake sets against
    the same real set (the same value, without recomputing the real covariance)."""
    if len(real) != len(fake):
        warnings.warn(f"real and fake sets differ in size ({len(real)} vs {len(fake)}): the k-NN scores' "
                      "50% chance level assumes equal sizes", stacklevel=2)
    # KID first: it refuses sets too small for its subsets before the k-NN's work
    kid = kid_score(real, fake, subsets=kid_subsets, subset_size=kid_subset_size, device=device)
    knn = knn_score(real, fake, k, rule=rule, device=device, progress=progress)
    prdc = prdc_score(real, fake, device=device)
    n_real, n_fake, dims = int(len(real)), int(len(fake)), int(real.shape[1])
    fd = (fid_from_features(real, fake) if real_statistics is None
          else frechet_distance(*real_statistics, *statistics(fake)))
    return {"fd": fd, "knn_k": knn.k, "knn_rule": knn.rule,
            "knn_real_pct": knn.real_pct, "knn_fake_pct": knn.fake_pct,
            "n_real": n_real, "n_fake": n_fake, "feature_dims": dims,
            "kid_mean": kid.mean, "kid_std": kid.std, "kid": kid.parameters(), "prdc": prdc.as_dict(),
            "covariance_rank_deficient": min(n_real, n_fake) <= dims}


def score_against_statistics(stats: tuple[np.ndarray, np.ndarray, dict | None], fake: np.ndarray, *,
                             k: int = 5, rule: str = "soft", name: str = "REAL") -> dict:
    """``score_features``'s keys for statistics (mu (D,), sigma (D, D), sidecar or None: what
    ``stats.read_statistics_file`` reads from the file ``name``) as the real set and fake features (N_f, D): the
    FD only; the k-NN, KID and P/R/D/C values are None (they need the real features), ``n_real`` is the sidecar's N
    (None for pytorch-fid's files)."""
    mu, sigma, meta = stats
    if len(mu) != fake.shape[1]:
        raise ValueError(f"{name}: statistics of {len(mu)}-d features, but the fake features are {fake.shape[1]}-d")
    n_real = meta.get("n") if meta else None
    n_fake, dims = int(len(fake)), int(fake.shape[1])
    return {"fd": frechet_distance(mu, sigma, *statistics(fake)), "knn_k": k, "knn_rule": rule,
            "knn_real_pct": None, "knn_fake_pct": None, "n_real": n_real, "n_fake": n_fake, "feature_dims": dims,
            "kid_mean": None, "kid_std": None, "kid": None, "prdc": None,
            "covariance_rank_deficient": min(n_fake, n_real or n_fake) <= dims}


def check_same_space(real: str, real_meta: dict, fake: str, fake_meta: dict) -> None:
    """Two feature sets must share the space, the distance's name and the weights file (sha256)."""
    for key in ("features", "fd_name"):
        if real_meta[key] != fake_meta[key]:
            raise ValueError(f"{real} and {fake} differ in {key}: {real_meta[key]!r} vs {fake_meta[key]!r}")
    weights = [(m.get("weights") or {}).get("sha256") for m in (real_meta, fake_meta)]
    if weights[0] != weights[1]:
        raise ValueError(f"{real} and {fake} come from different weights files (sha256 {weights[0]} vs {weights[1]})")


def space_meta(extractor: Extractor) -> dict:
    """What a feature or statistics file's sidecar says of the network that made it: space, distance name,
    precision and weights (``check_same_space`` compares the first, second and last)."""
    return {"features": extractor.space.name, "fd_name": fd_name(extractor), "precision": extractor.precision,
            "weights": extractor.weights.as_dict() if extractor.weights else None}


def _real_features(images: torch.Tensor, extractor: Extractor, cache_dir: str | Path | None, batch_size: int,
                   progress: bool) -> tuple[np.ndarray, Path | None]:
    """The real set's features (N, D), through the cache when ``cache_dir`` is given (then with its entry)."""
    if cache_dir is None:
        return extract_features(images, extractor, batch_size=batch_size, progress=progress,
                                desc="real features"), None
    features, entry, _ = cached_features(images, extractor, cache_dir, batch_size=batch_size, progress=progress,
                                         desc="real features")
    return features, entry


def score(real: str | Path | np.ndarray | torch.Tensor, fake: str | Path | np.ndarray | torch.Tensor, *,
          features: str | Extractor = "fid-inception", k: int = 5, rule: str = "soft",
          weights: str | Path | None = None, device: str | torch.device = "cpu", batch_size: int = 50,
          cache_dir: str | Path | None = None, progress: bool = False, allow_download: bool = False,
          precision: str = "fp32", channels_last: bool = False, compile_mode: str | None = None,
          kid_subsets: int = SUBSETS, kid_subset_size: int = SUBSET_SIZE) -> dict:
    """Score ``fake`` against ``real`` (each an image set as ``inputs.load_images`` takes; ``real`` may also be
    a statistics .npz with 'mu' and 'sigma', pytorch-fid's format: then the FD only, ``score_against_statistics``).

    Returns a dict: ``features`` (space), ``fd_name``, ``score_features``'s keys, ``weights`` (path, sha256,
    status; None for pixels), ``precision``, ``real_cache`` (the cache entry of the real features, or None
    without ``cache_dir``) and ``real_statistics`` (the statistics file, or None). ``precision``,
    ``channels_last``, ``compile_mode``: opt-in speed (``spaces.load_space``)."""
    if rule not in RULES or k < 1:  # checked before the long feature extraction
        raise ValueError(f"k-NN: expected k >= 1 and rule in {RULES}, got k={k}, rule={rule!r}")
    check_kid_options(kid_subsets, kid_subset_size)
    refuse_as_fake(fake)
    real_statistics = isinstance(real, (str, Path)) and is_statistics_file(real)
    stats = read_statistics_file(real) if real_statistics else None  # a malformed file fails before the network
    extractor = features if isinstance(features, Extractor) else load_space(
        features, weights=weights, device=device, allow_download=allow_download, precision=precision,
        channels_last=channels_last, compile_mode=compile_mode)
    if stats is not None and stats[2] is not None:  # a sidecar of ours: its space must be this one
        check_same_space(str(real), stats[2], "the features scored against it", space_meta(extractor))
    real_images = None if real_statistics else load_images(real, progress=progress)
    fake_images = load_images(fake, progress=progress)
    if extractor.space.name == "pixels" and not real_statistics and real_images.shape[1:] != fake_images.shape[1:]:
        raise ValueError(f"pixels: real and fake images differ in shape (C, H, W): "
                         f"{tuple(real_images.shape[1:])} vs {tuple(fake_images.shape[1:])}")
    if not real_statistics:  # sets too small for KID or P/R/D/C: refused before the feature extraction
        capped_subset_size(kid_subset_size, len(real_images), len(fake_images))
        check_sizes(len(real_images), len(fake_images))
    real_features, entry = (None, None) if real_statistics else _real_features(real_images, extractor, cache_dir,
                                                                               batch_size, progress)
    fake_features = extract_features(fake_images, extractor, batch_size=batch_size, progress=progress,
                                     desc="fake features")
    result = {"features": extractor.space.name, "fd_name": fd_name(extractor)}
    if real_statistics:
        result |= score_against_statistics(stats, fake_features, k=k, rule=rule, name=str(real))
    else:
        result |= score_features(real_features, fake_features, k=k, rule=rule, device=extractor.device,
                                 progress=progress, kid_subsets=kid_subsets, kid_subset_size=kid_subset_size)
    result["weights"] = extractor.weights.as_dict() if extractor.weights else None
    result["precision"] = extractor.precision
    result["real_cache"] = str(entry) if entry else None
    result["real_statistics"] = str(real) if real_statistics else None
    return result
