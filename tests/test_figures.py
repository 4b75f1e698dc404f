"""Interpretability figures (thesis 5.6, paper IV.C): soft counts, node averages, the block score,
truncation, and the figures of tiny trained ME/HME models (CLI and Snakemake rule)."""

import importlib.util
import itertools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from hmogbench.cli import main
from hmogbench.training.config import TrainConfig
from hmogbench.interpret.gating_stats import (block_score, block_statistic, expected_shares, gate_correlation,
                                              gate_covariance, inside_shares, lca_depths)
from hmogbench.interpret.mixture import Mixture
from hmogbench.interpret.outputs import figure_targets, output_files
from hmogbench.interpret.figures import make_figures
from hmogbench.interpret.responses import node_average_responses, soft_counts, top_indices, weighted_average
from hmogbench.interpret.truncation import truncate_least_likely
from hmogbench.models.generator import build_generator
from hmogbench.models.spec import ModelSpec
from hmogbench.runtime.provenance import torch_save_atomic
from hmogbench.training import build_models, train_from_config

ROOT = Path(__file__).resolve().parents[1]
SMALL = dict(samples=24, draws=120, top=3, grid=16, permutations=50, batch_size=10, progress=False)


def _mixture(name: str, gate_scale: float = 6.0, seed: int = 0) -> Mixture:
    """An untrained 32x32 ME/HME whose gates are sharpened (init gates are all ~0.5 / ~1/K) and whose
    linear leaves get non-zero biases (they start at zero)."""
    torch.manual_seed(seed)
    spec = ModelSpec.parse(name)
    G = build_generator(spec, 32, 1).eval()
    with torch.no_grad():
        G.head.gating.weight.mul_(gate_scale)
        G.head.gating.bias.normal_(0, 1)
        if spec.leaves == "linear":
            G.head.leaves.bias.normal_(0, 1)
    return Mixture(G, spec, name)


# --- soft counts and average responses --------------------------------------------------------------


@pytest.mark.parametrize("name", ["HME-3", "HME-L-2", "ME-4"])
def test_soft_counts_of_each_depth_sum_to_the_number_of_samples(name):
    mix = _mixture(name)
    z = torch.randn(37, 100, generator=torch.Generator().manual_seed(1))
    counts = soft_counts(mix.node_probs(z))
    depths = mix.node_depths
    assert counts.shape == (mix.num_nodes,)
    for d in range(depths.max() + 1):
        assert counts[torch.from_numpy(depths == d)].sum().item() == pytest.approx(37, rel=1e-6), d
    # the counts are not all equal: the check above is not met by a constant split alone
    assert counts[torch.from_numpy(depths == depths.max())].std() > 0.5


@pytest.mark.parametrize("name", ["HME-3", "ME-L-4"])
def test_root_average_is_the_plain_mean_and_nodes_are_weighted_means(name):
    mix = _mixture(name)
    z = torch.randn(45, 100, generator=torch.Generator().manual_seed(2))
    averages, counts = node_average_responses(mix, z, batch_size=16)  # 3 batches, the last one short
    with torch.no_grad():
        x = mix.G(z).double()
        probs = mix.node_probs(z)
    assert averages.shape == (mix.num_nodes, 1, 32, 32)
    torch.testing.assert_close(averages[0], x.mean(0), rtol=0, atol=1e-6)
    torch.testing.assert_close(counts, soft_counts(probs), rtol=1e-6, atol=1e-6)
    leaf = int(mix.leaf_nodes[-1])
    by_hand = (probs[:, leaf, None, None, None].double() * x).sum(0) / probs[:, leaf].double().sum()
    torch.testing.assert_close(averages[leaf], by_hand, rtol=0, atol=1e-6)
    torch.testing.assert_close(weighted_average(x, probs)[leaf], by_hand, rtol=0, atol=1e-6)
    # a leaf's average differs from the root's (the weighting does something)
    assert (averages[leaf] - averages[0]).abs().max() > 1e-3


@pytest.mark.parametrize("name", ["HME-2", "HME-L-2", "ME-3", "ME-L-3"])
def test_leaf_outputs_recombine_into_the_mixture(name):
    mix = _mixture(name)
    z = torch.randn(5, 100, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        outs = torch.stack([mix.leaf_output(z, i) for i in range(mix.num_leaves)], dim=1)  # (B, L, out)
        torch.testing.assert_close(outs, mix.leaves.outputs(z))
        mixed = (mix.leaf_weights(z).unsqueeze(2) * outs).sum(1)
        torch.testing.assert_close(mixed, mix.G.head(z).h, rtol=1e-4, atol=1e-4)
        images = mix.leaf_images(z, 1)
    assert images.shape == (5, 1, 32, 32)
    same_z_images = (images - images[:1]).abs().max().item()
    if mix.spec.leaves == "constant":
        assert same_z_images == 0  # a constant leaf's image does not depend on z
    else:
        assert same_z_images > 1e-4
    with pytest.raises(IndexError, match="out of range"):
        mix.leaf_output(z, mix.num_leaves)


def test_top_indices_are_the_rows_of_the_largest_values_largest_first():
    probs = torch.tensor([[0.1, 0.9], [0.7, 0.3], [0.5, 0.5], [0.8, 0.2]])
    assert top_indices(probs, 2).tolist() == [[3, 1], [0, 2]]
    with pytest.raises(ValueError, match="at least 5 draws"):
        top_indices(probs, 5)


# --- block score ------------------------------------------------------------------------------------


def test_lca_depths_of_an_eight_leaf_tree():
    lam = lca_depths(8)
    assert lam[0].tolist() == [3, 2, 1, 1, 0, 0, 0, 0]
    assert lam[5].tolist() == [0, 0, 0, 0, 2, 3, 1, 1]
    assert (lam == lam.T).all()
    with pytest.raises(ValueError, match="power-of-two"):
        lca_depths(6)


def test_expected_shares_are_the_exact_mean_over_all_leaf_orders():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 4))
    a = a + a.T
    perms = list(itertools.permutations(range(4)))
    shares = np.mean([inside_shares(a[np.ix_(p, p)]) for p in perms], axis=0)
    np.testing.assert_allclose(shares, expected_shares(4), rtol=1e-12)
    np.testing.assert_allclose(expected_shares(8), [3 / 7, 1 / 7])


def _block_matrix(depth: int, noise: float, seed: int) -> np.ndarray:
    """A covariance-like matrix with strong sibling and level-2 blocks plus symmetric noise."""
    n = 2**depth
    lam = lca_depths(n)
    rng = np.random.default_rng(seed)
    e = rng.normal(scale=noise, size=(n, n))
    return np.where(lam >= depth - 1, 1.0, 0.0) + np.where(lam == depth - 2, 0.4, 0.0) + (e + e.T) / 2


def test_block_score_is_high_for_a_block_diagonal_matrix_and_one_for_random_leaf_orders():
    a = _block_matrix(4, noise=0.05, seed=0)
    score = block_score(a, permutations=300, seed=1)
    assert score.score > 2.5 and score.p_value < 0.01 and score.z > 5
    assert score.score <= score.max_score + 1e-9
    assert score.level_ratios[-1] > score.level_ratios[0]  # the finest blocks are the strongest
    # the same matrix with its leaves in random orders: the structure is gone, the score is ~1
    rng = np.random.default_rng(2)
    shuffled = [block_score(a[np.ix_(p, p)], permutations=0).score
                for p in (rng.permutation(16) for _ in range(300))]
    assert np.mean(shuffled) == pytest.approx(1.0, abs=0.05)
    assert np.median(shuffled) < 1.3
    # the permutation baseline agrees with the exact expectation
    assert score.permutation_mean == pytest.approx(score.expected, rel=0.03)


def test_block_score_of_unstructured_gates_is_about_one():
    rng = np.random.default_rng(3)
    gates = rng.dirichlet(np.full(16, 0.3), size=20_000)  # independent leaves, no tree
    for mass in ("absolute", "positive"):
        cov = gate_covariance(gates)
        for matrix in (cov, gate_correlation(cov)):
            s = block_score(matrix, permutations=200, seed=0, mass=mass)
            if s is not None:  # Dirichlet gates have (almost) no positive covariance at all
                assert 0.8 < s.score < 1.25, (mass, s.score)


def test_block_score_mass_kinds_and_undefined_cases():
    a = _block_matrix(3, noise=0.0, seed=0) - 0.7  # siblings positive, everything else negative
    assert block_score(a, permutations=0, mass="positive").score == pytest.approx(3.5)  # = 1 / (2/7): max
    assert block_score(a, permutations=0, mass="absolute").score < 2.0
    assert block_score(np.eye(2), permutations=10) is None  # one leaf pair: no level to score
    assert block_score(np.ones((6, 6)), permutations=10) is None  # not a complete binary tree
    assert block_score(np.eye(4), permutations=10) is None  # no off-diagonal mass
    with pytest.raises(ValueError, match="expected one of"):
        block_statistic(a, mass="signed")


def test_gate_correlation_marks_constant_gates_nan():
    gates = np.array([[0.5, 0.5, 0.0], [0.2, 0.8, 0.0], [0.9, 0.1, 0.0]])
    corr = gate_correlation(gate_covariance(gates))
    assert corr[0, 1] == pytest.approx(-1.0)
    assert np.isnan(corr[2]).all() and np.isnan(corr[:, 2]).all()


# --- truncation -------------------------------------------------------------------------------------


def test_truncation_drops_the_quarter_with_the_largest_norm_and_keeps_draw_order():
    z = torch.randn(101, 100, generator=torch.Generator().manual_seed(4))
    kept_z, kept, threshold = truncate_least_likely(z, 0.25)
    assert len(kept) == 101 - 25
    assert kept.tolist() == sorted(kept.tolist())
    norms = z.norm(dim=1)
    dropped = sorted(set(range(101)) - set(kept.tolist()))
    assert norms[dropped].min() >= norms[kept].max()
    assert threshold == pytest.approx(norms[kept].max().item(), rel=1e-6)
    torch.testing.assert_close(kept_z, z[kept])
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        truncate_least_likely(z, 1.0)


# --- figures of tiny trained models ------------------------------------------------------------------


@pytest.fixture(scope="session")
def runs(tmp_path_factory):
    """Tiny trained checkpoints: HME-3 (constant), HME-L-2, ME-L-4 and FC (for the error)."""
    root = tmp_path_factory.mktemp("figure_runs")
    images = torch.randint(0, 256, (32, 1, 32, 32), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    out = {}
    for model, steps in (("HME-3", 2), ("HME-L-2", 1), ("ME-L-4", 1), ("FC", 1)):
        cfg = TrainConfig(model=model, steps=steps, batch_size=8, d_steps=1, checkpoint_every=100)
        train_from_config(cfg, images, root / model, progress=False)
        out[model] = root / model
    # ME-3 untrained, saved as training saves it: 3 leaves are no complete binary tree (no block score)
    cfg = TrainConfig(model="ME-3", steps=1)
    torch_save_atomic({"generator": build_models(cfg)[0].state_dict(), "config": cfg.to_dict(), "step": 0},
                      root / "ME-3" / "generator.pt")
    out["ME-3"] = root / "ME-3"
    return out


def _is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("model", ["HME-3", "HME-L-2", "ME-L-4", "ME-3"])
def test_figures_are_written_for_a_tiny_trained_model(runs, model, tmp_path):
    record = make_figures(runs[model], tmp_path, **SMALL)
    spec = ModelSpec.parse(model)
    assert record["files"] == output_files(spec.family)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(output_files(spec.family))
    for name in record["files"]:
        if name.endswith(".png"):
            assert _is_png(tmp_path / name) and (tmp_path / name).stat().st_size > 2000, name
    assert ("node_responses.png" in record["files"]) is (spec.family == "hme")
    saved = json.loads((tmp_path / "figures.json").read_text())
    for depth_counts in saved["soft_counts"]["by_depth"]:
        assert sum(depth_counts) == pytest.approx(SMALL["samples"], rel=1e-6)
    assert len(saved["soft_counts"]["nodes"]) == Mixture(build_generator(spec, 32, 1), spec).num_nodes
    assert saved["generator"]["path"].endswith("generator.pt") and len(saved["generator"]["sha256"]) == 64
    assert saved["settings"]["seed_draws"] == saved["settings"]["seed_samples"] + 1
    assert saved["provenance"]["config"]["train_config"]["model"] == model
    trained, init = saved["block_score"]["covariance"], saved["block_score"]["at_initialisation"]["covariance"]
    if model == "ME-3":
        assert trained is None and init is None and "no block score" in (tmp_path / "figures.md").read_text()
    else:
        assert trained["score"] > 0 and init["score"] > 0 and trained["mass"] == "absolute"
    if model == "HME-3":  # siblings share two gates: positive covariance, inside the level-2 blocks
        assert saved["block_score"]["by_mass"]["positive"]["covariance"]["score"] > 2
    assert saved["truncation"]["kept"] == SMALL["draws"] - SMALL["draws"] // 4
    assert "block score" in (tmp_path / "figures.md").read_text().lower()


def test_node_figure_of_a_deep_tree_is_capped(runs, tmp_path):
    record = make_figures(runs["HME-3"], tmp_path, max_depth=2, **SMALL)
    assert record["settings"]["drawn_depth"] == 2 and record["depth"] == 3
    assert _is_png(tmp_path / "node_responses.png")
    assert "depth-2 node" in (tmp_path / "figures.md").read_text()


def test_figures_are_deterministic_given_the_seed(runs, tmp_path):
    a = make_figures(runs["HME-L-2"], tmp_path / "a", **SMALL)
    b = make_figures(runs["HME-L-2"], tmp_path / "b", **SMALL)
    c = make_figures(runs["HME-L-2"], tmp_path / "c", seed=7, **SMALL)
    assert a["soft_counts"]["nodes"] == b["soft_counts"]["nodes"]
    assert a["soft_counts"]["nodes"] != c["soft_counts"]["nodes"]


def test_fc_checkpoint_gives_a_clear_error(runs, tmp_path, capsys):
    with pytest.raises(ValueError, match=r"figures need an ME or HME model .* this checkpoint is FC"):
        make_figures(runs["FC"], tmp_path / "fc", **SMALL)
    code = main(["figures", str(runs["FC"]), "--out", str(tmp_path / "fc"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "FC" in err and "generator.pt" in err
    assert not (tmp_path / "fc" / "figures.json").exists()


def test_cli_writes_the_figures_and_prints_the_block_score(runs, tmp_path, capsys):
    code = main(["figures", str(runs["HME-3"] / "generator.pt"), "--out", str(tmp_path), "--samples", "20",
                 "--draws", "100", "--top", "2", "--grid", "9", "--permutations", "20", "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0 and "B = " in out
    assert (tmp_path / "node_responses.png").exists() and (tmp_path / "figures.json").exists()
    with pytest.raises(SystemExit):
        main(["figures", str(runs["HME-3"]), "--draws", "10"])  # --out missing
    assert main(["figures", str(runs["HME-3"]), "--out", str(tmp_path / "x"), "--draws", "10", "--grid", "64"]) == 2
    assert "draws = 10" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("snakemake") is None, reason="snakemake not installed")
def test_snakemake_rule_draws_the_figures_of_a_trained_run(runs, tmp_path):
    run_dir = tmp_path / "results" / "runs" / "mnist" / "HME-L-2" / "seed2019"
    run_dir.mkdir(parents=True)
    shutil.copy(runs["HME-L-2"] / "generator.pt", run_dir / "generator.pt")
    (tmp_path / "extra.yaml").write_text(
        "datasets: [mnist]\nfigures:\n  samples: 20\n  draws: 100\n  top: 2\n  grid: 9\n  permutations: 20\n"
        "  models: [HME-L-2, ME-L-4]\n  seeds: [2019]\n  device: cpu\n")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
               PYTHONPATH=f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    # the project's workflow; only the figure rules may run (the run's training is taken as given)
    done = subprocess.run([sys.executable, "-m", "snakemake", "results/figures/mnist/HME-L-2/seed2019/figures.json",
                           "--cores", "1", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(tmp_path),
                           "--configfile", str(tmp_path / "extra.yaml"), "--allowed-rules", "figures_hme"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = tmp_path / "results" / "figures" / "mnist" / "HME-L-2" / "seed2019"
    assert sorted(p.name for p in out.iterdir()) == sorted(output_files("hme"))
    assert json.loads((out / "figures.json").read_text())["settings"]["samples"] == 20
    assert (tmp_path / "logs" / "figures" / "mnist" / "HME-L-2" / "seed2019.log").exists()


def test_figure_targets_follow_the_workflow_layout_and_skip_non_mixtures():
    files = figure_targets(["mnist"], ["HME-2", "ME-L-4", "FC", "MGAN-4"], [2019, 2020])
    assert len(files) == 2 * (len(output_files("hme")) + len(output_files("me")))
    assert "results/figures/mnist/HME-2/seed2019/node_responses.png" in files
    assert not any("ME-L-4" in f and f.endswith("node_responses.png") for f in files)
    assert not any("/FC/" in f or "MGAN" in f for f in files)
    with pytest.raises(ValueError, match="figures need an ME or HME model"):
        output_files("fc")
