"""Fréchet distance: pytorch-fid's statistics and value from our own eigenvalue computation (no sqrtm), on
singular covariances too, against pytorch-fid's ``calculate_frechet_distance`` and an independent exact value."""

import contextlib
import io
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.linalg
from pytorch_fid import fid_score

from hmogbench.metrics import fid
from hmogbench.metrics.fid import fid_from_features, frechet_distance, psd_factor, statistics, trace_sqrt_product

def features(seed, n=400, dim=12, shift=0.0, scale=1.0):
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(dim, dim)) / np.sqrt(dim)
    return (rng.normal(size=(n, dim)) @ mixing * scale + shift).astype(np.float32)


def pytorch_fid(x, y):
    """pytorch-fid 0.3.0's own distance of the same statistics (its sqrtm, under SciPy < 1.18)."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")  # SciPy 1.16-1.17: sqrtm's disp is deprecated
        return float(fid_score.calculate_frechet_distance(*statistics(x), *statistics(y)))


def exact(x, y):
    """The distance from the features themselves: Tr((S1 S2)^(1/2)) = ||A1 A2^T||_* / sqrt((N1-1)(N2-1)), A the
    centred features (the singular values of a product of N x N size; no square roots of eigenvalues)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    a, b = x - x.mean(axis=0), y - y.mean(axis=0)
    nuclear = np.linalg.svd(a @ b.T, compute_uv=False).sum() / np.sqrt((len(x) - 1) * (len(y) - 1))
    diff = x.mean(axis=0) - y.mean(axis=0)
    return diff @ diff + np.trace(np.cov(x, rowvar=False)) + np.trace(np.cov(y, rowvar=False)) - 2 * nuclear


def test_statistics_are_pytorch_fids_float64_mean_and_covariance():
    x = features(0)
    mu, sigma = statistics(x)
    assert mu.dtype == np.float64 and sigma.dtype == np.float64 and sigma.shape == (12, 12)
    activations = x.astype(np.float64)  # pytorch-fid keeps activations in a float64 array
    assert np.array_equal(mu, np.mean(activations, axis=0))
    assert np.array_equal(sigma, np.cov(activations, rowvar=False))


def test_distance_to_itself_is_zero_and_grows_with_a_shift():
    x = features(1)
    assert abs(fid_from_features(x, x)) < 1e-12
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
    # singular diagonals: zero variances in one, in the other and in both
    var1, var2 = np.array([0.0, 4.0, 0.0, 2.0]), np.array([3.0, 0.0, 0.0, 5.0])
    expected = (var1 + var2 - 2 * np.sqrt(var1 * var2)).sum()
    assert frechet_distance(np.zeros(4), np.diag(var1), np.zeros(4), np.diag(var2)) == pytest.approx(expected,
                                                                                                        rel=1e-12)


def _with_constant_dimension(x, value):
    x = x.copy()
    x[:, 3] = value
    return x


SMALL_CASES = {  # (real, fake) feature sets, D = 12
    "full rank": (features(10), features(11, shift=0.3, scale=1.5)),
    "N < D": (features(12, n=8), features(13, n=9, shift=0.3)),
    "N = 5 and 6": (features(14, n=5), features(15, n=6, scale=2.0)),
    "duplicated features": (np.concatenate([features(16, n=20)] * 3), np.concatenate([features(17, n=25)] * 2)),
    "a constant dimension in one": (_with_constant_dimension(features(18), 1.0), features(19, shift=0.2)),
    "a constant dimension in both": (_with_constant_dimension(features(20), 1.0),
                                     _with_constant_dimension(features(21, shift=0.2), 2.0)),
}


@pytest.mark.reference
@pytest.mark.parametrize("case", SMALL_CASES)
def test_equals_pytorch_fid_and_the_exact_value_on_singular_covariances(case):
    x, y = SMALL_CASES[case]
    ours, expected = fid_from_features(x, y), exact(x, y)
    assert expected > 0.1
    assert ours == pytest.approx(pytorch_fid(x, y), rel=1e-6)
    # closer to the exact value than pytorch-fid: its sqrtm adds the roots of rounding-noise eigenvalues
    assert ours == pytest.approx(expected, rel=1e-12)
    assert fid_from_features(y, x) == pytest.approx(ours, rel=1e-12)  # symmetric


def test_singular_covariances_are_factorised_at_their_rank():
    x = features(22, n=8)
    r = psd_factor(statistics(x)[1])
    assert r.shape == (12, 7)  # 8 samples: rank N - 1
    assert np.abs(r @ r.T - statistics(x)[1]).max() < 1e-12
    assert psd_factor(np.zeros((3, 3))).shape == (3, 0)
    assert trace_sqrt_product(np.zeros((3, 3)), np.eye(3)) == 0.0


def test_no_sqrtm_is_called(monkeypatch):
    """pytorch-fid 0.3.0 calls sqrtm(disp=False), which SciPy 1.18 removed; we call no sqrtm at all."""
    x, y = SMALL_CASES["N < D"]
    expected = pytorch_fid(x, y)

    def no_sqrtm(*args, **kwargs):
        raise AssertionError("scipy.linalg.sqrtm was called")

    monkeypatch.setattr(scipy.linalg, "sqrtm", no_sqrtm)
    monkeypatch.setattr(fid_score.linalg, "sqrtm", no_sqrtm)
    assert fid_from_features(x, y) == pytest.approx(expected, rel=1e-6)
    with pytest.raises(AssertionError, match="sqrtm was called"):  # the reference does call it
        fid_score.calculate_frechet_distance(*statistics(x), *statistics(y))


def test_the_distance_needs_no_pytorch_fid():
    """fid.py runs with pytorch-fid unimportable (its network stays in use elsewhere, its distance does not)."""
    code = ("import sys, importlib.util, numpy as np; sys.modules['pytorch_fid'] = None; "
            f"spec = importlib.util.spec_from_file_location('fid', {fid.__file__!r}); "
            "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); "
            "x = np.random.default_rng(0).normal(size=(20, 4)); print(m.fid_from_features(x, x + 1))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert float(out.stdout) == pytest.approx(4.0, rel=1e-12)  # a shift by 1 in 4 dimensions


def test_a_failed_eigensolver_is_retried_with_pytorch_fids_offset(monkeypatch):
    """As pytorch-fid where its root is not finite: eps I added to both covariances for the root only."""
    x, y = features(23), features(24, scale=1.5)
    (mu1, s1), (mu2, s2) = statistics(x), statistics(y)
    offset = 1e-6 * np.eye(12)
    expected = (((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2)
                - 2 * trace_sqrt_product(s1 + offset, s2 + offset))
    original, calls = np.linalg.eigvalsh, []

    def fails_once(matrix):
        calls.append(matrix.shape)
        if len(calls) == 1:
            raise np.linalg.LinAlgError("Eigenvalues did not converge")
        return original(matrix)

    monkeypatch.setattr(np.linalg, "eigvalsh", fails_once)
    with pytest.warns(RuntimeWarning, match="adding 1e-06 to diagonal of cov estimates"):
        value = frechet_distance(mu1, s1, mu2, s2)
    assert len(calls) == 2 and value == pytest.approx(expected, rel=1e-12)
    assert value != pytest.approx(fid_from_features(x, y), rel=1e-9)  # the offset changed the root, by a little
    assert value == pytest.approx(fid_from_features(x, y), rel=1e-4)


def test_covariances_that_are_not_covariances_are_refused():
    mu = np.zeros(3)
    indefinite = np.diag([1.0, -1.0, 0.0])
    with pytest.raises(ValueError, match="Imaginary component"):  # pytorch-fid refuses it too
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fid_score.calculate_frechet_distance(mu, indefinite, mu, np.eye(3))
    with pytest.raises(ValueError, match="statistics 1: the covariance is not positive semi-definite"):
        frechet_distance(mu, indefinite, mu, np.eye(3))
    with pytest.raises(ValueError, match="statistics 2: the covariance is not positive semi-definite"):
        frechet_distance(mu, np.eye(3), mu, np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))
    with pytest.raises(ValueError, match=r"statistics 2: the covariance is not symmetric \(max \|sigma - sigma\^T\| "
                                         r"= 1\)"):
        frechet_distance(mu, np.eye(3), mu, np.triu(np.ones((3, 3))))
    with pytest.raises(ValueError, match=r"statistics 1: expected a mean \(D,\) and a covariance \(D, D\), got "
                                         r"\(3,\) and \(2, 2\)"):
        frechet_distance(mu, np.eye(2), mu, np.eye(3))
    with pytest.raises(ValueError, match="differ in dimension: 3 vs 2"):
        frechet_distance(mu, np.eye(3), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="statistics 1: the mean or covariance contains NaN"):
        frechet_distance(mu, np.full((3, 3), np.nan), mu, np.eye(3))


def test_bad_features_are_refused():
    with pytest.raises(ValueError, match=r"N >= 2, got \(1, 12\)"):
        statistics(features(5)[:1])
    with pytest.raises(ValueError, match="NaN or infinite"):
        statistics(np.full((4, 3), np.inf))
    with pytest.raises(ValueError, match=r"same D, got \(400, 12\) and \(400, 5\)"):
        fid_from_features(features(6), features(7, dim=5))


def decaying_features(n, dims, seed, decay):
    """Non-negative (n, dims) features with an Inception-like covariance spectrum (i^-decay, random axes)."""
    rng = np.random.default_rng(seed)
    axes, _ = np.linalg.qr(rng.normal(size=(dims, dims)))
    return np.abs(0.3 + 0.5 * (rng.normal(size=(n, dims)) * np.arange(1, dims + 1) ** (-decay / 2)) @ axes.T)


@pytest.mark.reference
@pytest.mark.slow  # ~30 s: pytorch-fid's 2048 x 2048 sqrtm
def test_full_rank_2048_d_equals_pytorch_fid():
    x, y = decaying_features(4096, 2048, 0, 1.0), decaying_features(4096, 2048, 1, 1.2)
    assert psd_factor(statistics(x)[1]).shape == (2048, 2048)  # full rank: plain Cholesky
    ours = fid_from_features(x, y)
    assert ours > 0.5 and ours == pytest.approx(pytorch_fid(x, y), rel=1e-9)


@pytest.mark.reference
@pytest.mark.xdist_group("fid-sets")  # one worker builds the shared features and runs their users: none waits
def test_real_inception_features_rank_deficient_equal_pytorch_fid(fid_sets):
    """Our fid-inception features of 24 MNIST and 24 Fashion-MNIST images (conftest.py): our distance equals the
    exact value and pytorch-fid's own FID of the same folders (its features, its sqrtm). pytorch-fid's distance of
    the same statistics: on singular covariances and at full rank in 2048-d, above."""
    mnist, fashion = (np.load(fid_sets["ours"][name]) for name in ("mnist", "fashion"))
    assert mnist.shape == fashion.shape == (24, 2048) and mnist.dtype == np.float32
    assert psd_factor(statistics(mnist)[1]).shape[1] == 23  # 24 samples in 2048-d: rank N - 1
    ours = fid_from_features(mnist, fashion)
    assert 50 < ours < 500  # two very different data sets
    assert ours == pytest.approx(exact(mnist, fashion), rel=1e-10)
    assert ours == pytest.approx(fid_sets["fid"], rel=1e-4)  # pytorch-fid's pipeline end to end, its features
    within = fid_from_features(mnist[:12], mnist[12:])  # two halves of one set: smaller
    assert 0 < within < ours and within == pytest.approx(exact(mnist[:12], mnist[12:]), rel=1e-10)
