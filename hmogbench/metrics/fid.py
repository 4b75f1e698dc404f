"""Fréchet distance between feature sets: pytorch-fid's statistics and value, computed from eigenvalues.

FD = ||mu1 - mu2||^2 + Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^(1/2)), S1 and S2 the covariances. With S_i = R_i R_i^T
(Cholesky; for a singular S_i, from N <= D samples, duplicated features or a constant dimension, pivoted Cholesky
truncated at its rank r_i), S1 S2 has the eigenvalues of (R1^T R2)(R1^T R2)^T and zeros: Tr((S1 S2)^(1/2)) is
the sum of the singular values of C = R1^T R2, here the roots of the eigenvalues of the smaller of C C^T and
C^T C. Two Cholesky factorisations, two products and one symmetric eigenvalue problem of size min(r1, r2),
where pytorch-fid's ``scipy.linalg.sqrtm`` computes a non-symmetric Schur decomposition of size D: for D = 2048
on 2 cores ~1 s instead of ~10 s (benchmarks/bench_metrics.py; torch-fidelity's ``eigvals(S1 S2)``, the
non-symmetric eigenvalue problem, is in between).

The value equals pytorch-fid's ``calculate_frechet_distance`` to ~1e-7 relative or better, and the exact value
(computed from the features' own product, tests/test_fid.py) to ~1e-12: on singular covariances pytorch-fid is
off by the roots of the rounding-noise eigenvalues of its singular product, which the truncation drops.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg

TRUNCATION_TOLERANCE = 1e-9  # of a singular covariance's pivoted Cholesky remainder, relative to its largest variance


def statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Features (N, D) -> float64 mean (D,) and covariance (D, D), as pytorch-fid."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"expected features of shape (N, D) with N >= 2, got {features.shape}")
    if not np.isfinite(features).all():
        raise ValueError("features contain NaN or infinite values")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def check_statistics(mu: np.ndarray, sigma: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """``mu`` (D,) and ``sigma`` (D, D) as float64, finite, ``sigma`` symmetric (to rounding, then made exact)."""
    mu, sigma = np.atleast_1d(np.asarray(mu, dtype=np.float64)), np.atleast_2d(np.asarray(sigma, dtype=np.float64))
    if mu.ndim != 1 or sigma.shape != (len(mu), len(mu)):
        raise ValueError(f"{name}: expected a mean (D,) and a covariance (D, D), got {mu.shape} and {sigma.shape}")
    if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
        raise ValueError(f"{name}: the mean or covariance contains NaN or infinite values")
    asymmetry = np.abs(sigma - sigma.T).max()
    if asymmetry > 1e-6 * max(np.abs(sigma).max(), 1e-300):
        raise ValueError(f"{name}: the covariance is not symmetric (max |sigma - sigma^T| = {asymmetry:.3g})")
    return mu, (sigma + sigma.T) / 2


def psd_factor(sigma: np.ndarray, name: str = "covariance") -> np.ndarray:
    """R (D, r) with R R^T = sigma (D, D), r its rank: Cholesky, or for a singular sigma pivoted Cholesky
    (LAPACK dpstrf) truncated at its rank. ValueError if sigma is not positive semi-definite beyond rounding."""
    try:
        return scipy.linalg.cholesky(sigma, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        pass
    factor, pivots, rank, info = scipy.linalg.lapack.dpstrf(sigma, lower=1)
    if info < 0:
        raise ValueError(f"{name}: LAPACK dpstrf failed (info {info})")
    r = np.empty((len(sigma), rank))
    r[pivots - 1] = np.tril(factor)[:, :rank]  # sigma[P][:, P] = L L^T  =>  sigma = (P^T L)(P^T L)^T
    remainder = np.abs(sigma - r @ r.T).max()
    if remainder > TRUNCATION_TOLERANCE * max(sigma.diagonal().max(), np.finfo(float).tiny):
        raise ValueError(f"{name}: the covariance is not positive semi-definite (its rank-{rank} pivoted Cholesky "
                         f"factor leaves entries up to {remainder:.3g}, where a covariance leaves rounding noise)")
    return r


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """Tr((sigma1 sigma2)^(1/2)) of two covariances (D, D): with sigma_i = R_i R_i^T (``psd_factor``, r_i
    columns), the eigenvalues of sigma1 sigma2 are 0 and the squared singular values of C = R1^T R2, i.e. the
    eigenvalues of the Gram matrix C C^T or C^T C (the smaller, min(r1, r2) square). Returns the sum of their
    roots, rounding-noise eigenvalues below 0 taken as 0. LinAlgError if the eigensolver fails."""
    r1, r2 = psd_factor(sigma1, "statistics 1"), psd_factor(sigma2, "statistics 2")
    cross = r1.T @ r2
    gram = cross @ cross.T if cross.shape[0] <= cross.shape[1] else cross.T @ cross
    eigenvalues = np.linalg.eigvalsh(gram)
    if not np.isfinite(eigenvalues).all():
        raise np.linalg.LinAlgError("non-finite eigenvalues (overflow)")
    return float(np.sqrt(np.clip(eigenvalues, 0, None)).sum())


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray,
                     eps: float = 1e-6) -> float:
    """||mu1 - mu2||^2 + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2)) (units: squared features); mu (D,),
    sigma (D, D). pytorch-fid's ``calculate_frechet_distance``, the same value.

    pytorch-fid's two safeguards, and ours: (1) where its ``sqrtm`` root is not finite (SciPy < 1.16's sqrtm
    returns NaN where its Schur recurrence meets a zero denominator R_ii + R_jj, which exact zero eigenvalues of a
    singular product can give), it prints that it adds ``eps`` I to both covariances and takes the root of
    (sigma1 + eps I)(sigma2 + eps I), the traces staying those given. Our roots are of eigenvalues clipped at 0:
    they divide by nothing, so this triggers only where the eigensolver fails to converge or overflows; then,
    as there, a warning and the same offset. (2) It refuses a root whose diagonal has imaginary parts beyond
    1e-3, which arise from negative eigenvalues of the product, i.e. from a covariance that is not positive
    semi-definite. Ours has no negative eigenvalues to take roots of (they are squared singular values) and
    refuses such a covariance itself (``psd_factor``: Cholesky fails and the pivoted Cholesky factor leaves
    more than rounding). Neither triggers for covariances of real features (``statistics``)."""
    mu1, sigma1 = check_statistics(mu1, sigma1, "statistics 1")
    mu2, sigma2 = check_statistics(mu2, sigma2, "statistics 2")
    if mu1.shape != mu2.shape:
        raise ValueError(f"the two statistics differ in dimension: {len(mu1)} vs {len(mu2)}")
    try:
        tr_covmean = trace_sqrt_product(sigma1, sigma2)
    except np.linalg.LinAlgError as exc:
        warnings.warn(f"fid calculation produces singular product ({exc}); adding {eps} to diagonal of cov "
                      "estimates", RuntimeWarning, stacklevel=2)
        offset = np.eye(len(mu1)) * eps
        tr_covmean = trace_sqrt_product(sigma1 + offset, sigma2 + offset)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * tr_covmean)


def fid_from_features(features1: np.ndarray, features2: np.ndarray) -> float:
    """Fréchet distance between two feature sets (N1, D) and (N2, D)."""
    features1, features2 = np.asarray(features1), np.asarray(features2)
    if features1.ndim != 2 or features2.ndim != 2 or features1.shape[1] != features2.shape[1]:
        raise ValueError(f"feature sets must be (N, D) with the same D, got {features1.shape} and {features2.shape}")
    return frechet_distance(*statistics(features1), *statistics(features2))
