"""KID: torch-fidelity's unbiased polynomial-kernel MMD^2 over random subsets, against a plain double loop and
against torch-fidelity's own formula with its subset draws; and the KID and covariance keys of a score."""

import numpy as np
import pytest
import torch

from hmogbench.metrics import kid as kid_module
from hmogbench.metrics.cli import format_result
from hmogbench.metrics.kid import KidScore, kid_score, subset_indices
from hmogbench.metrics.record import scored_against_real
from hmogbench.metrics.score import score_features


def gaussian(seed, n, dim=8, shift=0.0):
    return (np.random.default_rng(seed).normal(size=(n, dim)) + shift).astype(np.float32)


def double_loop_mmd2(x, y, degree=3, coef0=1.0):
    """The estimator written out: mean of k over pairs i != j within each set, minus twice the cross mean."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    gamma, m = 1.0 / x.shape[1], len(x)

    def k(a, b):
        return (gamma * float(np.dot(a, b)) + coef0) ** degree

    within = sum(k(x[i], x[j]) + k(y[i], y[j]) for i in range(m) for j in range(m) if i != j)
    cross = sum(k(x[i], y[j]) for i in range(m) for j in range(m))
    return within / (m * (m - 1)) - 2 * cross / m ** 2


def torch_fidelity_kid(f1, f2, subsets, subset_size, seed, degree=3, gamma=None, coef0=1):
    """torch-fidelity 0.4's kid_features_to_metric, mmd2 (unbiased) and kernel_poly, in float64 numpy."""
    f1, f2 = np.asarray(f1, dtype=np.float64), np.asarray(f2, dtype=np.float64)
    gamma = 1.0 / f1.shape[1] if gamma is None else gamma
    mmds = np.zeros(subsets)
    rng = np.random.RandomState(seed)
    for i in range(subsets):
        x = f1[rng.choice(len(f1), subset_size, replace=False)]
        y = f2[rng.choice(len(f2), subset_size, replace=False)]
        k_xx, k_yy, k_xy = ((a @ b.T * gamma + coef0) ** degree for a, b in ((x, x), (y, y), (x, y)))
        m = k_xx.shape[0]
        kt_xx_sum = (k_xx.sum(axis=1) - np.diagonal(k_xx)).sum()
        kt_yy_sum = (k_yy.sum(axis=1) - np.diagonal(k_yy)).sum()
        mmds[i] = (kt_xx_sum + kt_yy_sum) / (m * (m - 1)) - 2 * k_xy.sum(axis=0).sum() / (m * m)
    return float(np.mean(mmds)), float(np.std(mmds))


def test_one_subset_of_all_points_is_the_double_loop():
    x, y = gaussian(0, 10, dim=3), gaussian(1, 10, dim=3, shift=0.5)
    result = kid_score(x, y, subsets=1, subset_size=10)  # a subset of all points: their order does not matter
    assert result.mean == pytest.approx(double_loop_mmd2(x, y), rel=1e-12) and result.std == 0.0
    assert result.mean > 0
    assert kid_score(x, y, subsets=1, subset_size=10, degree=2, coef0=0.5).mean == pytest.approx(
        double_loop_mmd2(x, y, degree=2, coef0=0.5), rel=1e-12)


@pytest.mark.reference
def test_equals_torch_fidelitys_formula_with_its_subset_draws():
    real, fake = gaussian(2, 60, dim=16), gaussian(3, 45, dim=16, shift=0.2)
    result = kid_score(real, fake, subsets=9, subset_size=20, seed=2020)
    mean, std = torch_fidelity_kid(real, fake, 9, 20, 2020)
    assert result.mean == pytest.approx(mean, rel=1e-12) and result.std == pytest.approx(std, rel=1e-10)
    assert std > 0  # the subsets differ
    other = kid_score(real, fake, subsets=9, subset_size=20, seed=7)
    assert other.mean != pytest.approx(mean, rel=1e-6)  # the seed matters
    assert other.mean == pytest.approx(torch_fidelity_kid(real, fake, 9, 20, 7)[0], rel=1e-12)


@pytest.mark.reference
def test_subset_draws_are_torch_fidelitys():
    draws = subset_indices(50, 40, 3, 10, seed=5)
    rng = np.random.RandomState(5)
    for real_idx, fake_idx in draws:  # per subset: the real set's draw, then the fake set's
        assert np.array_equal(real_idx, rng.choice(50, 10, replace=False))
        assert np.array_equal(fake_idx, rng.choice(40, 10, replace=False))


@pytest.mark.reference
def test_defaults_are_torch_fidelitys_and_the_subset_size_is_capped():
    real, fake = gaussian(4, 30), gaussian(5, 50)
    result = kid_score(real, fake)
    assert isinstance(result, KidScore)
    assert result.parameters() == {"subsets": 100, "subset_size": 30, "subset_size_requested": 1000, "degree": 3,
                                   "gamma": 1 / 8, "coef0": 1.0, "seed": 2020,
                                   "warning": "subset size capped at the set size: 1000 requested, 30 used "
                                              "(30 real, 50 fake points)"}
    assert result.mean == pytest.approx(torch_fidelity_kid(real, fake, 100, 30, 2020)[0], rel=1e-12)


def test_same_distribution_is_near_zero_and_can_be_negative():
    values = [kid_score(gaussian(10 + s, 40), gaussian(100 + s, 40), subsets=1).mean for s in range(30)]
    shifted = kid_score(gaussian(6, 40), gaussian(7, 40, shift=1.0), subsets=1).mean
    assert min(values) < 0 < max(values)  # unbiased: no clipping at 0
    assert abs(np.mean(values)) < 3 * np.std(values) / np.sqrt(len(values))  # mean 0 within its standard error
    assert shifted > 10 * np.std(values)


def test_the_precomputed_and_the_per_subset_inner_products_agree(monkeypatch):
    real, fake = gaussian(8, 70, dim=12), gaussian(9, 60, dim=12, shift=0.3)
    at_once = kid_score(real, fake, subsets=5, subset_size=25)
    monkeypatch.setitem(kid_module.GRAM_ELEMENTS, "cpu", 0)  # too big: subset by subset
    per_subset = kid_score(real, fake, subsets=5, subset_size=25)
    assert per_subset.mean == pytest.approx(at_once.mean, rel=1e-12)
    assert per_subset.std == pytest.approx(at_once.std, rel=1e-9)


def test_float32_and_tensor_inputs_are_computed_in_float64():
    real, fake = gaussian(11, 30, dim=64) * 30, gaussian(12, 30, dim=64) * 30  # large values: float32 would round
    expected = torch_fidelity_kid(real, fake, 3, 30, 2020)[0]
    assert kid_score(torch.from_numpy(real), torch.from_numpy(fake), subsets=3).mean == pytest.approx(expected,
                                                                                                       rel=1e-12)


def test_bad_options_and_features_are_refused():
    x = gaussian(13, 10)
    with pytest.raises(ValueError, match="subsets >= 1 and subset size >= 10, got 0 and 1000"):
        kid_score(x, x, subsets=0)
    with pytest.raises(ValueError, match="got 100 and 1"):
        kid_score(x, x, subset_size=1)
    with pytest.raises(ValueError, match=r"the same D and N >= 2, got \(10, 8\) and \(10, 3\)"):
        kid_score(x, x[:, :3])
    with pytest.raises(ValueError, match="NaN or infinite"):
        kid_score(x, np.full((4, 8), np.nan))


def test_score_features_adds_kid_and_the_rank_flag_and_keeps_its_keys():
    real, fake = gaussian(14, 40), gaussian(15, 40, shift=0.5)
    result = score_features(real, fake, kid_subsets=4, kid_subset_size=25)
    assert {"fd", "knn_k", "knn_rule", "knn_real_pct", "knn_fake_pct", "n_real", "n_fake", "feature_dims"} < set(result)
    assert result["kid_mean"] == pytest.approx(torch_fidelity_kid(real, fake, 4, 25, 2020)[0], rel=1e-12)
    assert result["kid"] == {"subsets": 4, "subset_size": 25, "subset_size_requested": 25, "degree": 3,
                             "gamma": 1 / 8, "coef0": 1.0, "seed": 2020, "warning": None}
    assert result["covariance_rank_deficient"] is False  # 40 samples in 8-d
    small = score_features(gaussian(16, 12, dim=16), gaussian(17, 12, dim=16))
    assert small["covariance_rank_deficient"] is True and small["kid"]["subset_size"] == 12

    text = format_result({**result, "features": "pixels", "fd_name": "FD (pixels)", "weights": None,
                          "real": "r.npy", "fake": "f.npy"})
    assert f"KID (pixels)  {result['kid_mean']:.6f} ± {result['kid_std']:.6f} (4 subsets of 25)" in text
    assert "rank-deficient" not in text
    text = format_result({**small, "features": "pixels", "fd_name": "FD (pixels)", "weights": None,
                          "real": "r.npy", "fake": "f.npy"})
    assert ("rank-deficient: the 16-d covariance of 12 samples (N <= D) has rank <= 11, so the FD is computed from "
            "a singular covariance") in text
    assert f"KID warning {small['kid']['warning']}" in " ".join(text.split())


def test_a_subset_size_capped_at_the_sets_is_recorded_and_printed_with_its_warning():
    """Sets of 200 (the smoke grid's eval_images) at the default 1000: the record says 1000 asked, 200 used,
    and that the std over subsets of the whole set says nothing; the score output prints it."""
    real, fake = gaussian(18, 200), gaussian(19, 200, shift=0.2)
    meta = {"features": "pixels", "fd_name": "FD (pixels)"}
    record = scored_against_real(real, meta, fake, None, kid_subsets=3)
    assert record["kid"]["subset_size_requested"] == 1000 and record["kid"]["subset_size"] == 200
    assert record["kid"]["warning"] == ("subset size capped at the set size: 1000 requested, 200 used (200 real, "
                                        f"200 fake points); {kid_module.WHOLE_SET}")
    assert record["kid_std"] == pytest.approx(0, abs=1e-12)  # the same subset in other orders
    text = " ".join(format_result({**record, "real": "r.npy", "fake": "f.npy"}).split())
    assert f"(3 subsets of 200) KID warning {record['kid']['warning']} images" in text
    uneven = kid_score(real, gaussian(20, 300), subsets=3)  # the larger set is subsampled: the std is not 0
    assert uneven.subset_size == 200 and uneven.std > 0 and kid_module.WHOLE_SET not in uneven.warning
    assert kid_score(real, fake, subsets=3, subset_size=150).warning is None  # as asked: nothing to say


def test_subsets_below_the_minimum_are_refused_with_one_line():
    assert kid_module.MIN_SUBSET_SIZE == 10  # docs/metrics.md states it and why
    with pytest.raises(ValueError, match="subset size >= 10, got 100 and 9"):
        kid_score(gaussian(21, 50), gaussian(22, 50), subset_size=9)
    with pytest.raises(ValueError) as error:
        score_features(gaussian(23, 9), gaussian(24, 9))  # asked 1000, the sets hold 9
    assert str(error.value) == ("KID: the sets hold 9 real and 9 fake points; expected at least 10 in each (the "
                                "least subset size, docs/metrics.md)")
    assert kid_score(gaussian(25, 10), gaussian(26, 10)).subset_size == 10  # the minimum itself is scored
