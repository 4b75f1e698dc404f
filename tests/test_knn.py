"""k-NN leave-one-out scores: against scikit-learn, on hand-checkable ties, and at the chance levels."""

import numpy as np
import pytest
import torch
from sklearn.neighbors import NearestNeighbors

from hmogbench.metrics.knn import knn_score, real_neighbour_counts


def sklearn_counts(real, fake, k, max_tied=1):
    """Per point, real points among its k nearest others (scikit-learn's leave-one-out kneighbors).

    Checks that the answer is unambiguous: no ties at the k-th place, or (duplicates) only ties among
    points of one kind, which any tie-breaking counts alike. At most ``max_tied`` points tie there."""
    pool = np.concatenate([real, fake]).astype(np.float64)
    distances, index = NearestNeighbors(n_neighbors=k + max_tied, algorithm="kd_tree").fit(pool).kneighbors()
    is_real = index < len(real)
    kth = distances[:, k - 1:k]
    tied = np.abs(distances - kth) <= 1e-9 * (1 + kth)
    assert not tied[:, -1].any()  # the whole tie group was fetched
    if max_tied == 1:  # no near-ties either: a clear gap after the k-th neighbour
        assert (distances[:, k] - distances[:, k - 1]).min() > 1e-6 * distances[:, k].max()
    assert ((is_real == is_real[:, k - 1:k]) | ~tied).all()  # one kind in each tie group
    return is_real[:, :k].sum(axis=1), int(tied[:, k:].any(axis=1).sum())


def gaussian_sets(seed, n=150, dim=8, shift=0.0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, dim)), rng.normal(size=(n + 20, dim)) + shift


def clustered_sets(seed, n=150, dim=32, clusters=6):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4.0, size=(clusters, dim))
    real = centres[rng.integers(0, clusters, n)] + rng.normal(scale=0.5, size=(n, dim))
    fake = centres[rng.integers(0, clusters - 2, n)] + rng.normal(scale=0.8, size=(n, dim))  # two modes dropped
    return real.astype(np.float32), fake.astype(np.float32)


@pytest.mark.parametrize("sets", [gaussian_sets(0, shift=0.7), clustered_sets(1)], ids=["gaussian", "clustered"])
@pytest.mark.parametrize("k", [1, 5])
def test_counts_and_scores_equal_scikit_learn(sets, k):
    real, fake = sets
    expected, _ = sklearn_counts(real, fake, k)
    w_real, w_fake = real_neighbour_counts(real, fake, k, chunk_size=37)  # several chunks, a ragged last one
    assert np.array_equal(torch.cat([w_real, w_fake]).numpy(), expected)

    soft = knn_score(real, fake, k)
    assert soft.real_pct == pytest.approx(100 * expected[:len(real)].mean() / k, abs=1e-9)
    assert soft.fake_pct == pytest.approx(100 * (k - expected[len(real):]).mean() / k, abs=1e-9)
    majority = knn_score(torch.from_numpy(real), torch.from_numpy(fake), k, rule="majority")
    if k == 5:  # odd k: no split votes
        assert majority.real_pct == pytest.approx(100 * (expected[:len(real)] >= 3).mean())
        assert majority.fake_pct == pytest.approx(100 * (expected[len(real):] <= 2).mean())
    if k == 5:
        assert soft.real_pct != majority.real_pct  # the two rules are different numbers


def test_duplicates_of_one_kind_equal_scikit_learn():
    real, fake = clustered_sets(8, n=40)
    real = np.concatenate([real, real[:15]])  # 15 real points twice
    fake = np.concatenate([fake, fake[:10], fake[:10]])  # 10 fake points three times
    expected, ties_across_the_kth_place = sklearn_counts(real, fake, 5, max_tied=4)
    assert ties_across_the_kth_place > 0
    w_real, w_fake = real_neighbour_counts(real, fake, 5, chunk_size=16)
    assert np.array_equal(torch.cat([w_real, w_fake]).numpy(), expected)


def test_chunking_does_not_change_the_counts():
    real, fake = clustered_sets(2, n=60)
    whole = torch.cat(real_neighbour_counts(real, fake, 5, chunk_size=10_000))
    for chunk in (1, 7, 119):
        assert torch.equal(torch.cat(real_neighbour_counts(real, fake, 5, chunk_size=chunk)), whole)


def test_ties_share_the_remaining_places_equally():
    # 1-D, k = 2. Real {0, 0, 0}; fake {0, 10, 10, 10}.
    # A real 0 has three others at distance 0 (two real, one fake) for 2 places: 2 * 2/3 real neighbours.
    # The fake 0 has the three real 0s (both places real); each fake 10 has the two other fake 10s.
    real, fake = np.zeros((3, 1)), np.array([[0.0], [10.0], [10.0], [10.0]])
    w_real, w_fake = real_neighbour_counts(real, fake, 2)
    assert torch.allclose(w_real, torch.full((3,), 4 / 3, dtype=torch.float64))
    assert torch.equal(w_fake, torch.tensor([2.0, 0.0, 0.0, 0.0], dtype=torch.float64))
    soft = knn_score(real, fake, 2)
    assert soft.real_pct == pytest.approx(100 * 2 / 3) and soft.fake_pct == pytest.approx(75.0)
    majority = knn_score(real, fake, 2, rule="majority")  # 4/3 of 2 neighbours real: a real vote
    assert majority.real_pct == pytest.approx(100.0) and majority.fake_pct == pytest.approx(75.0)
    # a split vote counts one half: real {0}, fake {0, 0}; each fake's 2 neighbours are one real, one fake
    split = knn_score(np.zeros((1, 1)), np.array([[0.0], [0.0]]), 2, rule="majority")
    assert split.real_pct == pytest.approx(0.0) and split.fake_pct == pytest.approx(50.0)


def test_ties_do_not_depend_on_the_order_of_points_or_on_which_set_is_real():
    rng = np.random.default_rng(3)
    base = rng.integers(0, 4, size=(12, 3)).astype(np.float64)  # a coarse grid: many exact duplicates
    real, fake = base[rng.integers(0, 12, 40)], base[rng.integers(0, 12, 35)]
    score = knn_score(real, fake, 5)
    permuted = knn_score(real[rng.permutation(40)], fake[rng.permutation(35)], 5)
    swapped = knn_score(fake, real, 5)
    assert permuted.real_pct == pytest.approx(score.real_pct) and permuted.fake_pct == pytest.approx(score.fake_pct)
    assert swapped.real_pct == pytest.approx(score.fake_pct) and swapped.fake_pct == pytest.approx(score.real_pct)


def test_duplicated_high_dimensional_features():
    # fake = an exact copy of real (2048-d, Inception-like magnitudes): each point's nearest other is its twin
    # of the other kind; the next-nearest is a twin pair, one real and one fake, exactly tied.
    real = np.abs(np.random.default_rng(4).normal(size=(40, 2048))).astype(np.float32) * 3 + 0.5
    fake = real.copy()
    assert knn_score(real, fake, 1).real_pct == 0.0 and knn_score(real, fake, 1).fake_pct == 0.0
    k2 = knn_score(real, fake, 2)  # twin + half of the tied pair's one remaining place: 0.5 of 2 same-kind
    assert k2.real_pct == pytest.approx(25.0) and k2.fake_pct == pytest.approx(25.0)
    k3 = knn_score(real, fake, 3)  # twin + the whole tied pair: 1 of 3 same-kind
    assert k3.real_pct == pytest.approx(100 / 3) and k3.fake_pct == pytest.approx(100 / 3)


def test_chance_and_separation_levels():
    same = knn_score(*gaussian_sets(5, n=800, dim=16), 5)
    assert abs(same.real_pct - 50) < 5 and abs(same.fake_pct - 50) < 5
    apart = knn_score(*gaussian_sets(6, n=200, dim=16, shift=50.0), 5)
    assert apart.real_pct == 100.0 and apart.fake_pct == 100.0


def test_bad_input_is_named():
    real, fake = gaussian_sets(7, n=10)
    with pytest.raises(ValueError, match="k must be between 1 and 39"):
        knn_score(real, fake, 40)
    with pytest.raises(ValueError, match="differ in dimension: 8 vs 3"):
        knn_score(real, fake[:, :3], 5)
    with pytest.raises(ValueError, match="unknown k-NN rule 'vote'"):
        knn_score(real, fake, 5, rule="vote")
    with pytest.raises(ValueError, match="NaN or infinite"):
        knn_score(np.full((5, 8), np.nan), fake, 5)
    with pytest.raises(ValueError, match=r"real features must be a non-empty \(N, D\) matrix"):
        knn_score(np.zeros(8), fake, 5)
