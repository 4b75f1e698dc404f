"""Fréchet distance: pytorch-fid's statistics and formula, its sanity levels, and the SciPy >= 1.18 fallback."""

import numpy as np
import pytest
import scipy.linalg
from pytorch_fid import fid_score

from hmogbench.metrics.fid import fid_from_features, frechet_distance, statistics


def features(seed, n=400, dim=12, shift=0.0, scale=1.0):
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(dim, dim)) / np.sqrt(dim)
    return (rng.normal(size=(n, dim)) @ mixing * scale + shift).astype(np.float32)


def test_statistics_are_pytorch_fids_float64_mean_and_covariance():
    x = features(0)
    mu, sigma = statistics(x)
    assert mu.dtype == np.float64 and sigma.dtype == np.float64 and sigma.shape == (12, 12)
    activations = x.astype(np.float64)  # pytorch-fid keeps activations in a float64 array
    assert np.array_equal(mu, np.mean(activations, axis=0))
    assert np.array_equal(sigma, np.cov(activations, rowvar=False))


def test_distance_to_itself_is_zero_and_grows_with_a_shift():
    x = features(1)
    assert abs(fid_from_features(x, x)) < 1e-8
    shifts = [0.1, 0.5, 2.0]
    values = [fid_from_features(x, x + s) for s in shifts]
    # a pure shift keeps the covariance: FD = |shift|^2 * D exactly
    assert values == pytest.approx([12 * s ** 2 for s in shifts], rel=1e-5)
    assert fid_from_features(x, features(2)) < fid_from_features(x, features(2, scale=2.0))


def test_matches_the_closed_form_for_diagonal_gaussians():
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    var1, var2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    expected = ((mu1 - mu2) ** 2).sum() + (var1 + var2 - 2 * np.sqrt(var1 * var2)).sum()
    assert frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2)) == pytest.approx(expected, rel=1e-12)


def test_works_when_sqrtm_has_no_disp_argument(monkeypatch):
    x, y = features(3), features(4, shift=0.3, scale=1.5)
    expected = fid_from_features(x, y)
    original = scipy.linalg.sqrtm
    calls = []

    def sqrtm_scipy_1_18(matrix):  # SciPy 1.18 removed disp (and blocksize)
        calls.append(matrix.shape)
        return original(matrix)

    monkeypatch.setattr(scipy.linalg, "sqrtm", sqrtm_scipy_1_18)
    with pytest.raises(TypeError, match="disp"):  # pytorch-fid 0.3.0 as is fails
        fid_score.calculate_frechet_distance(*statistics(x), *statistics(y))
    assert fid_from_features(x, y) == pytest.approx(expected, rel=1e-10)
    assert calls == [(12, 12)]
    assert fid_score.linalg is scipy.linalg  # pytorch-fid's module is left as it was


def test_bad_features_are_refused():
    with pytest.raises(ValueError, match=r"N >= 2, got \(1, 12\)"):
        statistics(features(5)[:1])
    with pytest.raises(ValueError, match="NaN or infinite"):
        statistics(np.full((4, 3), np.inf))
    with pytest.raises(ValueError, match=r"same D, got \(400, 12\) and \(400, 5\)"):
        fid_from_features(features(6), features(7, dim=5))
