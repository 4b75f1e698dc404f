"""Toy data, the mode-coverage score, and short end-to-end toy runs."""

import json

import pytest
import torch

from hmogbench.toy.coverage import mode_coverage, uniform_baseline
from hmogbench.toy.data import gaussian_mixture, load_toy, spiral
from hmogbench.toy.experiment import ToyConfig, run_toy, toy_objective


def test_toy_data_sets():
    gmm = gaussian_mixture()
    assert gmm.points.shape == (2500, 2) and gmm.means.shape == (5, 2)
    assert (gmm.means.abs() <= 12).all() and ((gmm.stds >= 0.5) & (gmm.stds <= 2.5)).all()
    assert torch.equal(gmm.points, gaussian_mixture().points)  # seeded: the same set on every machine
    sp = spiral()
    radius = sp.points.norm(dim=1)
    assert sp.points.shape == (2500, 2) and radius.max() < 14.5 and radius.max() > 13  # r up to 13.6 + noise
    with pytest.raises(ValueError, match="unknown toy data set 'ring'"):
        load_toy("ring")


def test_coverage_of_true_samples_one_mode_and_uniform_noise():
    gmm = gaussian_mixture()
    full = mode_coverage(gmm.points, gmm.means, gmm.stds)
    assert full["modes_covered"] == 5 and full["quality_share"] > 0.97
    one = mode_coverage(torch.randn(1000, 2) * gmm.stds[2] + gmm.means[2], gmm.means, gmm.stds)
    assert one["modes_covered"] <= 2 and one["quality_share"] > 0.97  # collapsed: quality without coverage
    far = mode_coverage(torch.full((100, 2), 100.0), gmm.means, gmm.stds)
    assert far == {"modes_covered": 0, "modes_total": 5, "mode_share": 0.0, "quality_share": 0.0}
    assert uniform_baseline(gmm.means, gmm.stds, -15, 15)["quality_share"] < 0.6


def test_short_hme_toy_run_covers_more_modes_than_chance(tmp_path):
    metrics = run_toy(ToyConfig(dataset="gmm", model="HME-L-3", epochs=10), tmp_path, progress=False)
    cov, init, uniform = metrics["coverage"], metrics["coverage_at_init"], metrics["coverage_uniform_baseline"]
    assert cov["modes_covered"] >= 4 and cov["modes_covered"] > init["modes_covered"]
    assert cov["quality_share"] > uniform["quality_share"] + 0.2
    assert sum(metrics["samples_per_generator"]) == 2500
    for name in ("samples.png", "tree.png", "metrics.json", "losses.csv"):
        assert (tmp_path / name).stat().st_size > 0
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["coverage"] == cov and saved["provenance"]["config"]["model"] == "HME-L-3"


@pytest.mark.parametrize("model", ["ME-L-8", "MADGAN-8", "MGAN-8", "MEGAN-8"])
def test_every_toy_model_trains_and_draws(model, tmp_path):
    metrics = run_toy(ToyConfig(dataset="spiral", model=model, epochs=1), tmp_path, progress=False)
    assert len(metrics["samples_per_generator"]) == 8
    assert (tmp_path / "samples.png").stat().st_size > 0 and not (tmp_path / "tree.png").exists()
    assert "coverage" not in metrics  # the spiral has no modes


def test_toy_madgan_keeps_the_unsaturated_generator_loss():
    """The toy MADGAN uses -log D_0 ('log-softmax'), not the image runs' default (the authors' BCELoss on the
    softmax, which saturates); the authors' toy script had a third, buggy form (README, Faithfulness)."""
    name, objective = toy_objective(ToyConfig(model="MADGAN-8"))
    assert name == "madgan" and objective.g_loss_kind == "log-softmax"
    assert toy_objective(ToyConfig(model="HME-L-3"))[0] == "ns"


def test_toy_uses_one_dimensional_z_for_the_spiral():
    assert ToyConfig(dataset="spiral").resolved_z_dim == 1 and ToyConfig(dataset="gmm").resolved_z_dim == 2
    assert ToyConfig(model="HME-L-3").resolved_lr_g == 8e-3 and ToyConfig(model="MGAN-8").resolved_lr_g == 1e-3
    assert ToyConfig(epochs=300).steps == 300 * 156


def test_toy_command_writes_a_summary_of_every_result(tmp_path):
    from hmogbench.cli import main

    assert main(["toy", "--datasets", "gmm", "--models", "MGAN-8", "--epochs", "1", "--out", str(tmp_path),
                 "--no-progress"]) == 0
    assert main(["toy", "--datasets", "spiral", "--models", "HME-L-3", "--epochs", "1", "--out", str(tmp_path),
                 "--no-progress"]) == 0
    summary = (tmp_path / "summary.md").read_text()
    assert "| gmm    | MGAN-8 " in summary and "| spiral | HME-L-3 " in summary  # both runs listed
    assert (tmp_path / "spiral" / "HME-L-3" / "tree.png").exists()
