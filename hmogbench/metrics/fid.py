"""Fréchet distance between feature sets, exactly as pytorch-fid computes it.

Statistics are the float64 mean and covariance (``np.cov``, N - 1); the distance is pytorch-fid's own
``calculate_frechet_distance``. pytorch-fid 0.3.0 calls ``scipy.linalg.sqrtm(..., disp=False)``, which
SciPy 1.18 removed: there, the same pytorch-fid code runs against a ``sqrtm`` that accepts ``disp``.
"""

from __future__ import annotations

import threading
import types
import warnings
from contextlib import contextmanager
from typing import Iterator

import numpy as np
import scipy.linalg


def statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Features (N, D) -> float64 mean (D,) and covariance (D, D), as pytorch-fid."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"expected features of shape (N, D) with N >= 2, got {features.shape}")
    if not np.isfinite(features).all():
        raise ValueError("features contain NaN or infinite values")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def sqrtm_with_disp(matrix: np.ndarray, disp: bool = True, blocksize: int = 64):
    """``scipy.linalg.sqrtm`` with the pre-1.18 signature: ``disp=False`` returns (sqrtm, error estimate)."""
    root = scipy.linalg.sqrtm(matrix)
    if disp:
        return root
    error = np.linalg.norm(root @ root - matrix, "fro") / np.linalg.norm(matrix, "fro")
    return root, error


_LINALG_SHIM = types.SimpleNamespace(sqrtm=sqrtm_with_disp)
_SHIM_LOCK = threading.Lock()


def _fid_score() -> types.ModuleType:
    """pytorch-fid's ``fid_score`` module, imported on first use (it imports torchvision: ~2 s)."""
    from pytorch_fid import fid_score

    return fid_score


@contextmanager
def _pytorch_fid_without_disp() -> Iterator[None]:
    fid_score = _fid_score()
    with _SHIM_LOCK:
        original, fid_score.linalg = fid_score.linalg, _LINALG_SHIM
        try:
            yield
        finally:
            fid_score.linalg = original


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray,
                     eps: float = 1e-6) -> float:
    """||mu1 - mu2||^2 + Tr(sigma1 + sigma2 - 2 sqrt(sigma1 sigma2)) by pytorch-fid (units: squared features)."""
    fid_score = _fid_score()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*disp.*", category=DeprecationWarning)  # SciPy 1.16-1.17
        try:
            return float(fid_score.calculate_frechet_distance(mu1, sigma1, mu2, sigma2, eps=eps))
        except TypeError as exc:
            if "disp" not in str(exc):
                raise
        with _pytorch_fid_without_disp():
            return float(fid_score.calculate_frechet_distance(mu1, sigma1, mu2, sigma2, eps=eps))


def fid_from_features(features1: np.ndarray, features2: np.ndarray) -> float:
    """Fréchet distance between two feature sets (N1, D) and (N2, D)."""
    features1, features2 = np.asarray(features1), np.asarray(features2)
    if features1.ndim != 2 or features2.ndim != 2 or features1.shape[1] != features2.shape[1]:
        raise ValueError(f"feature sets must be (N, D) with the same D, got {features1.shape} and {features2.shape}")
    return frechet_distance(*statistics(features1), *statistics(features2))
