"""Statistics files in pytorch-fid's format: ``hmogbench score --save-stats IMAGES OUT.npz`` writes what
pytorch-fid's ``--save-stats`` writes, and a statistics file as REAL gives pytorch-fid's FID (the FD only)."""

import json
import re

import numpy as np
import pytest

from hmogbench.cli import main
from hmogbench.metrics import fid_from_features, is_statistics_file, load_statistics, save_statistics
from hmogbench.metrics.stats import EXPECTED


@pytest.mark.reference
@pytest.mark.slow  # ~20 s: 24 CPU Inception passes and a 2048-d distance
@pytest.mark.xdist_group("fid-sets")  # one worker builds the shared features and runs their users: none waits
def test_pytorch_fid_stats_as_real_give_pytorch_fids_fid(fid_sets, tmp_path, capsys):
    """pytorch-fid's own --save-stats file of the MNIST folder as REAL, the Fashion folder as FAKE (conftest.py):
    pytorch-fid's own FID of the two folders."""
    stats, expected = fid_sets["theirs"]["mnist"], fid_sets["fid"]
    assert is_statistics_file(stats) and expected > 50
    out = tmp_path / "score.json"
    assert main(["score", str(stats), str(fid_sets["folders"]["fashion"]), "--weights", str(fid_sets["weights"]),
                 "--no-progress", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    result = json.loads(out.read_text())
    assert result["fd"] == pytest.approx(expected, rel=1e-6)
    assert result["fd_name"] == "FID" and result["real_statistics"] == str(stats) and result["n_real"] is None
    assert result["knn_real_pct"] is None and result["kid_mean"] is None and result["n_fake"] == 24
    assert re.search(r"^5-NN +n/a \(REAL is a statistics file: the k-NN needs features\)$", text, re.M)
    assert re.search(r"^KID \(fid-inception\) +n/a \(REAL is a statistics file: KID needs features\)$", text, re.M)
    assert re.search(rf"^images +statistics file \({re.escape(str(stats))}\), 24 fake ", text, re.M)
    assert "rank-deficient: the 2048-d covariance of 24 samples (N <= D) has rank <= 23" in text


@pytest.mark.reference
@pytest.mark.slow  # ~5 s: 24 CPU Inception passes
@pytest.mark.xdist_group("fid-sets")  # one worker builds the shared features and runs their users: none waits
def test_save_stats_writes_pytorch_fids_file(fid_sets, tmp_path, capsys):
    ours, folder, weights = tmp_path / "mnist.npz", fid_sets["folders"]["mnist"], fid_sets["weights"]
    assert main(["score", "--save-stats", str(folder), str(ours), "--weights", str(weights), "--no-progress"]) == 0
    assert capsys.readouterr().out == f"fid-inception: statistics (mu, sigma) of 24 images, 2048-d -> {ours}\n"
    with np.load(ours) as mine, np.load(fid_sets["theirs"]["mnist"]) as theirs:
        assert sorted(mine.files) == sorted(theirs.files) == ["mu", "sigma"]
        assert mine["mu"].dtype == mine["sigma"].dtype == theirs["sigma"].dtype == np.float64
        assert mine["sigma"].shape == theirs["sigma"].shape == (2048, 2048)
        scale = np.abs(theirs["sigma"]).max()
        assert np.abs(mine["mu"] - theirs["mu"]).max() < 1e-5 * np.abs(theirs["mu"]).max()
        assert np.abs(mine["sigma"] - theirs["sigma"]).max() < 1e-5 * scale
    meta = json.loads(ours.with_suffix(".json").read_text())
    assert meta["features"] == "fid-inception" and meta["n"] == 24 and meta["weights"]["status"] == "reconstruction"
    assert main(["score", "--save-stats", str(folder), str(ours), "--weights", str(weights)]) == 2
    assert f"{ours} already exists" in capsys.readouterr().err  # as pytorch-fid's --save-stats: no overwriting


def pixels(seed, n, size=8):
    return np.random.default_rng(seed).integers(0, 256, (n, size, size), dtype=np.uint8)


@pytest.mark.filterwarnings("ignore:real and fake sets differ in size")
def test_own_stats_file_as_real_equals_scoring_the_images(fid_weights, tmp_path, capsys):
    np.save(tmp_path / "real.npy", pixels(0, 40))
    np.save(tmp_path / "fake.npy", pixels(1, 30) // 2)
    stats = tmp_path / "real_stats.npz"
    assert main(["score", "--save-stats", str(tmp_path / "real.npy"), str(stats), "--features", "pixels",
                 "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["score", str(stats), str(tmp_path / "fake.npy"), "--features", "pixels", "--json",
                 "--no-progress"]) == 0
    from_stats = json.loads(capsys.readouterr().out)
    assert main(["score", str(tmp_path / "real.npy"), str(tmp_path / "fake.npy"), "--features", "pixels", "--json",
                 "--no-progress"]) == 0
    from_images = json.loads(capsys.readouterr().out)
    assert from_images["fd"] > 1 and from_stats["fd"] == pytest.approx(from_images["fd"], rel=1e-12)
    assert from_stats["fd_name"] == from_images["fd_name"] == "FD (pixels)"
    # the pixel features are float32 x / 255
    expected = fid_from_features(*(np.float32(a.reshape(len(a), -1)) / np.float32(255)
                                   for a in (pixels(0, 40), pixels(1, 30) // 2)))
    assert from_stats["fd"] == pytest.approx(expected, rel=1e-12)
    assert from_stats["n_real"] == 40 and from_stats["covariance_rank_deficient"] is True  # 30 fake in 64-d
    assert main(["score", str(stats), str(tmp_path / "fake.npy"), "--weights", str(fid_weights)]) == 2
    assert "real_stats.npz and the features scored against it differ in features: 'pixels' vs " \
           "'fid-inception'" in capsys.readouterr().err  # the sidecar says which space it is in


def test_malformed_stats_files_are_named_with_the_keys_expected(tmp_path, capsys):
    np.save(tmp_path / "fake.npy", pixels(2, 10))
    np.savez(tmp_path / "mu_only.npz", mu=np.zeros(64))
    assert main(["score", str(tmp_path / "mu_only.npz"), str(tmp_path / "fake.npy"), "--features", "pixels"]) == 2
    err = capsys.readouterr().err
    assert err == f"hmogbench score: error: {tmp_path / 'mu_only.npz'}: holds the arrays ['mu']; expected {EXPECTED}\n"
    np.savez(tmp_path / "shapes.npz", mu=np.zeros(64), sigma=np.eye(63))
    with pytest.raises(ValueError, match=r"shapes.npz: expected a mean \(D,\) and a covariance \(D, D\), got "
                                         r"\(64,\) and \(63, 63\)"):
        load_statistics(tmp_path / "shapes.npz")
    np.savez(tmp_path / "ints.npz", mu=np.zeros(2, dtype=int), sigma=np.eye(2, dtype=int))
    with pytest.raises(ValueError, match="ints.npz: 'mu' is int64, 'sigma' int64; expected a pytorch-fid"):
        load_statistics(tmp_path / "ints.npz")
    np.savez(tmp_path / "wrong_d.npz", mu=np.zeros(3), sigma=np.eye(3))
    assert main(["score", str(tmp_path / "wrong_d.npz"), str(tmp_path / "fake.npy"), "--features", "pixels"]) == 2
    assert "wrong_d.npz: statistics of 3-d features, but the fake features are 64-d" in capsys.readouterr().err


def test_image_arrays_in_npz_files_stay_image_sets(tmp_path):
    np.savez(tmp_path / "images.npz", images=pixels(3, 5))
    np.savez(tmp_path / "one.npz", pixels(3, 5))
    (tmp_path / "text.npz").write_text("not a zip")
    assert not any(is_statistics_file(tmp_path / name) for name in ("images.npz", "one.npz", "text.npz", "nope.npz"))


def test_save_statistics_is_pytorch_fids_format_and_atomic(tmp_path):
    x = np.random.default_rng(4).normal(size=(20, 5))
    save_statistics(tmp_path / "s.npz", x.mean(axis=0), np.cov(x, rowvar=False))
    mu, sigma = load_statistics(tmp_path / "s.npz")
    assert np.array_equal(mu, x.mean(axis=0)) and np.array_equal(sigma, np.cov(x, rowvar=False))
    assert not (tmp_path / "s.json").exists() and [p.name for p in tmp_path.iterdir()] == ["s.npz"]  # no .tmp left
    with pytest.raises(ValueError, match="s.stats: statistics files are .npz"):
        save_statistics(tmp_path / "s.stats", mu, sigma)


def test_save_stats_cli_errors(tmp_path, capsys):
    np.save(tmp_path / "real.npy", pixels(5, 10))
    assert main(["score", "--save-stats", str(tmp_path / "real.npy"), str(tmp_path / "out.stats"),
                 "--features", "pixels"]) == 2
    assert "out.stats: --save-stats writes pytorch-fid's .npz format (OUT must end in .npz)" in capsys.readouterr().err
    assert main(["score", "--save-stats", str(tmp_path / "missing"), str(tmp_path / "out.npz"),
                 "--features", "pixels"]) == 2
    assert "image set " + str(tmp_path / "missing") + " does not exist (IMAGES:" in capsys.readouterr().err
    assert not (tmp_path / "out.npz").exists()


def test_stats_file_as_real_with_precomputed_fake_features(tmp_path, capsys):
    np.save(tmp_path / "real.npy", pixels(6, 30))
    np.save(tmp_path / "fake.npy", pixels(7, 30) // 3)
    common = ["--features", "pixels", "--no-progress"]
    assert main(["score", "--save-stats", str(tmp_path / "real.npy"), str(tmp_path / "real.npz"), *common]) == 0
    assert main(["features", str(tmp_path / "fake.npy"), "--out", str(tmp_path / "fake_x.npy"), *common]) == 0
    capsys.readouterr()
    assert main(["score", str(tmp_path / "real.npy"), str(tmp_path / "fake.npy"), "--json", *common]) == 0
    expected = json.loads(capsys.readouterr().out)["fd"]
    assert main(["score", "--precomputed", str(tmp_path / "real.npz"), str(tmp_path / "fake_x.npy"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["fd"] == pytest.approx(expected, rel=1e-12)
    assert result["real_statistics"] == str(tmp_path / "real.npz")
    assert result["fd_name"] == "FD (pixels)" and result["knn_real_pct"] is None and result["n_real"] == 30
    (tmp_path / "real.json").unlink()  # as a file of pytorch-fid's: no sidecar, the features' space is taken
    assert main(["score", "--precomputed", str(tmp_path / "real.npz"), str(tmp_path / "fake_x.npy")]) == 0
    assert "statistics file" in capsys.readouterr().out
    for command in (["score", str(tmp_path / "fake.npy"), str(tmp_path / "real.npz"), *common],
                    ["score", "--precomputed", str(tmp_path / "fake_x.npy"), str(tmp_path / "real.npz")]):
        assert main(command) == 2
        assert capsys.readouterr().err == (f"hmogbench score: error: {tmp_path / 'real.npz'}: a statistics file (mu, "
                                           "sigma) can only be REAL; FAKE must be images (or, with --precomputed, a "
                                           "feature file)\n")
