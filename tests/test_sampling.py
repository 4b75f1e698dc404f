"""Trained generators back from disk, samples as uint8, and the workflow's per-stage commands."""

import json

import numpy as np
import pytest
import torch

from hmogbench.cli import main
from hmogbench.training.config import TrainConfig
from hmogbench.training.sampling import load_generator, sample_images, to_uint8
from hmogbench.training import train_from_config


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "megan"
    torch.manual_seed(0)
    data = torch.randint(0, 256, (32, 1, 32, 32), dtype=torch.uint8)
    train_from_config(TrainConfig(model="MEGAN-2", steps=1, batch_size=8, seed=2021), data, out, progress=False)
    return out


def test_to_uint8_rounds_and_clamps():
    x = torch.tensor([-2.0, -1.0, 0.0, 0.999, 1.0, 5.0]).view(1, 1, 1, 6)
    assert to_uint8(x).ravel().tolist() == [0, 0, 128, 255, 255, 255]  # (x + 1) * 127.5, rounded


def test_samples_are_reproducible_and_leave_the_callers_rng_alone(run_dir):
    G, cfg = load_generator(run_dir)
    assert cfg.model == "MEGAN-2" and cfg.seed == 2021 and not G.training
    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    a = sample_images(G, 30, seed=7, batch_size=8)  # MEGAN draws Gumbel noise inside G
    after = torch.rand(3)
    assert torch.equal(before, after)
    b = sample_images(G, 30, seed=7, batch_size=30)
    c = sample_images(G, 30, seed=8)
    assert a.shape == (30, 32, 32, 1) and a.dtype == np.uint8
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_load_generator_names_what_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="no trained generator"):
        load_generator(tmp_path)
    bad = tmp_path / "generator.pt"
    torch.save({"weights": 1}, bad)
    with pytest.raises(ValueError, match="generator.pt: expected a dict with 'generator' and 'config'"):
        load_generator(bad)


def test_sample_features_score_commands(run_dir, tmp_path):
    real = tmp_path / "real.npy"
    np.save(real, np.random.default_rng(0).integers(0, 256, (20, 32, 32, 1), dtype=np.uint8))
    fake = tmp_path / "fake.npy"
    assert main(["sample", str(run_dir), "--count", "50", "--at-most-like", str(real), "--out", str(fake),
                 "--device", "cpu", "--no-progress"]) == 0
    meta = json.loads(fake.with_suffix(".json").read_text())
    assert np.load(fake).shape == (20, 32, 32, 1)  # no more than the real set holds
    assert meta["count"] == 20 and meta["z_seed"] == 2021 and meta["config"]["model"] == "MEGAN-2"
    assert meta["steps_trained"] == 1 and len(meta["generator_sha256"]) == 64

    for name, images in (("real", real), ("fake", fake)):
        assert main(["features", str(images), "--features", "pixels", "--out", str(tmp_path / f"{name}-px.npy"),
                     "--device", "cpu", "--no-progress"]) == 0
    side = json.loads((tmp_path / "fake-px.json").read_text())
    assert side["features"] == "pixels" and side["n"] == 20 and side["dims"] == 1024
    assert side["source"]["config"]["model"] == "MEGAN-2"  # the samples' sidecar travels along

    out = tmp_path / "metrics.json"
    assert main(["score", "--precomputed", str(tmp_path / "real-px.npy"), str(tmp_path / "fake-px.npy"),
                 "--out", str(out), "--device", "cpu", "--no-progress"]) == 0
    rec = json.loads(out.read_text())
    assert rec["fd_name"] == "FD (pixels)" and rec["n_real"] == rec["n_fake"] == 20 and rec["precision"] == "fp32"
    assert "precision" not in rec["provenance"]["config"]  # the feature files' sidecars say how they were made
    assert rec["fake_source"]["config"]["seed"] == 2021 and 0 <= rec["knn_real_pct"] <= 100

    # feature files of different spaces are refused, both named
    other = tmp_path / "other.npy"
    np.save(other, np.zeros((20, 1024), np.float32))
    other.with_suffix(".json").write_text(json.dumps({**side, "features": "fid-inception", "fd_name": "FID"}))
    assert main(["score", "--precomputed", str(tmp_path / "real-px.npy"), str(other), "--no-progress"]) == 2
    with pytest.raises(ValueError, match=r"real-px.npy and .*other.npy differ in features"):
        from hmogbench.metrics.cli import score_feature_files
        score_feature_files(str(tmp_path / "real-px.npy"), str(other), k=5, rule="soft", device="cpu",
                            progress=False)
