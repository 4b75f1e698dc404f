"""All interpretability figures of one trained ME/HME checkpoint, with their numbers.

``make_figures(run, out)`` writes into ``out`` (files: ``outputs.output_files``):

* ``node_responses.png`` (HME): every node's average response over ``samples`` draws (thesis: 500),
  laid out as the tree, labelled with its soft count as a share of the samples; under each bottom
  node the ``top`` samples G(z) of the ``draws`` draws (thesis: 10,000) where that node's path
  probability (for a leaf: its gate) is highest. Trees deeper than ``max_depth`` are drawn to
  ``max_depth`` levels; the bottom row then shows depth-``max_depth`` subtrees (the title says so).
* ``leaf_responses.png``: each leaf's average response (its soft-count-weighted mean sample).
* ``gating_covariance.png``: covariance | correlation of the leaf gates over the ``draws`` draws, with
  their block scores (``gating_stats``).
* ``leaf_samples.png``: column i = leaf i's generator *alone*, trunk(G_i(z)), at leaf i's ``top``
  most likely z (the draws where its gate is highest), most likely first. Constant leaves give one
  image per leaf (their output does not depend on z), so a column repeats it.
* ``samples.png`` / ``samples_truncated.png``: the first ``grid`` samples of the draws; the first
  ``grid`` of the draws kept after dropping the least likely 25% (``truncation``).
* ``figures.json`` (numbers, settings, provenance) and ``figures.md`` (a caption per figure).

Seeds: the response samples use z from ``draw_z(samples, z_dim, seed)``; the draws use ``seed + 1``.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..provenance import file_digest, provenance, write_json_atomic, write_text_atomic
from ..sampling import draw_z, generator_path, load_generator, to_uint8
from . import plots
from .gating_stats import MASSES, block_score, gate_correlation, gate_covariance
from .mixture import Mixture, require_mixture
from .outputs import output_files
from .responses import draw_node_probs, node_average_responses, top_indices
from .settings import FIGURE_DEFAULTS
from .truncation import truncate_least_likely

TRUNCATION_DROP = 0.25  # paper IV.B: "disregard the least likely 25%"
HEADLINE_MASS = "absolute"  # the block score shown in the figure (the other mass is in figures.json)


def initial_generator(cfg):
    """The run's generator before training: rebuilt with the run's seed exactly as training builds it
    (``train.build_models``), so identical to the run's initial weights as long as the model code has
    not changed since. The caller's Python, NumPy and torch RNG states are restored afterwards."""
    from ..training import build_models

    states = random.getstate(), np.random.get_state()
    with torch.random.fork_rng():
        G0 = build_models(cfg)[0].eval()
    random.setstate(states[0])
    np.random.set_state(states[1])
    return G0


@torch.no_grad()
def gate_statistics(mix: Mixture, z: torch.Tensor, permutations: int, seed: int, device,
                    progress: bool = False) -> dict[str, Any]:
    """Leaf-gate covariance and correlation over z, and their block scores for both masses.

    Returns {'probs': (N, nodes) tensor, 'gates': (N, L) float64 array, 'covariance', 'correlation':
    (L, L) arrays, 'scores': {mass: {'covariance': BlockScore | None, 'correlation': ...}}}."""
    probs = draw_node_probs(mix, z, device=device, progress=progress)
    gates = probs[:, mix.leaf_nodes].numpy().astype(np.float64)
    cov = gate_covariance(gates)
    corr = gate_correlation(cov)
    scores = {mass: {"covariance": block_score(cov, permutations, seed, mass),
                     "correlation": block_score(corr, permutations, seed, mass)} for mass in MASSES}
    return {"probs": probs, "gates": gates, "covariance": cov, "correlation": corr, "scores": scores}


def _score_dicts(scores: dict) -> dict:
    """{mass: {matrix: BlockScore | None}} -> the headline mass's scores at the top, the others under by_mass."""
    as_dict = {mass: {k: (v.to_dict() if v is not None else None) for k, v in by.items()} for mass, by in scores.items()}
    return {**as_dict[HEADLINE_MASS], "mass": HEADLINE_MASS, "by_mass": as_dict}


@torch.no_grad()
def _images(G, z: torch.Tensor, device, batch_size: int = 100) -> np.ndarray:
    """uint8 (N, H, W, C) samples G(z), in batches."""
    return np.concatenate([to_uint8(G(z[s : s + batch_size].to(device))) for s in range(0, len(z), batch_size)])


def _run_steps(path: Path) -> int | None:
    """Generator steps of the run, from run.json beside generator.pt (None if absent)."""
    info = path.parent / "run.json"
    try:
        return json.loads(info.read_text()).get("steps_done")
    except (OSError, ValueError):
        return None


def make_figures(run: str | Path, out: str | Path, samples: int = FIGURE_DEFAULTS.samples,
                 draws: int = FIGURE_DEFAULTS.draws, top: int = FIGURE_DEFAULTS.top,
                 seed: int = FIGURE_DEFAULTS.seed, grid: int = FIGURE_DEFAULTS.grid,
                 max_depth: int = FIGURE_DEFAULTS.max_depth, permutations: int = FIGURE_DEFAULTS.permutations,
                 batch_size: int = 100, device: str | torch.device = "cpu", progress: bool = True) -> dict[str, Any]:
    """Write every figure of the checkpoint ``run`` (a run directory or its generator.pt) into ``out``.

    samples: M, draws for the node averages (thesis: 500). draws: z draws for the gate statistics,
    the top-gate samples and the sample grids (thesis: 10,000). top: samples per leaf (thesis: 5).
    grid: images per sample grid. Returns the content of figures.json."""
    for name, value, least in (("samples", samples, 1), ("top", top, 1), ("grid", grid, 1),
                               ("max_depth", max_depth, 1), ("permutations", permutations, 0)):
        if value < least:
            raise ValueError(f"{name} = {value}: expected an integer >= {least}")
    need = max(top, math.ceil(grid / (1 - TRUNCATION_DROP)), 2)
    if draws < need:
        raise ValueError(f"draws = {draws}: need at least {need} (top = {top}; grid = {grid} truncated samples)")
    path = generator_path(run)
    G, cfg = load_generator(path, device)
    spec = cfg.spec
    require_mixture(spec, str(path))
    mix = Mixture(G, spec, str(path))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)

    # node responses over M samples
    z_resp = draw_z(samples, G.z_dim, seed)
    averages, counts = node_average_responses(mix, z_resp, batch_size, device, progress)
    shares = (counts / samples).numpy()
    node_images = to_uint8(averages.float())  # (nodes, H, W, C)

    # gates over the draws, for the trained model and for the same model at initialisation
    z_draw = draw_z(draws, G.z_dim, seed + 1)
    stats = gate_statistics(mix, z_draw, permutations, seed, device, progress)
    init = gate_statistics(Mixture(initial_generator(cfg).to(device), spec, str(path)), z_draw, permutations, seed,
                           device)
    probs, leaf_gates, cov, corr = stats["probs"], stats["gates"], stats["covariance"], stats["correlation"]
    scores, init_scores = stats["scores"][HEADLINE_MASS], init["scores"][HEADLINE_MASS]
    leaf_top = top_indices(probs[:, mix.leaf_nodes], top)  # (L, top)

    files = output_files(spec.family)
    steps = _run_steps(path)
    title = f"{spec.name} ({cfg.dataset}" + (f", {steps} G steps)" if steps is not None else ")")
    drawn_depth = None
    if mix.is_tree:
        drawn_depth = min(mix.depth, max_depth)
        level = np.arange(2**drawn_depth - 1, 2 ** (drawn_depth + 1) - 1)  # bottom drawn nodes
        bottom_top = top_indices(probs[:, level], top)
        bottom = _images(G, z_draw[bottom_top.reshape(-1)], device, batch_size)
        bottom = bottom.reshape(len(level), top, *bottom.shape[1:])
        drawn = node_images[: 2 ** (drawn_depth + 1) - 1]
        what = ("leaves" if drawn_depth == mix.depth
                else f"depth-{drawn_depth} subtrees of {2 ** (mix.depth - drawn_depth)} leaves (top {drawn_depth} of "
                     f"{mix.depth} levels drawn)")
        plots.plot_node_responses(
            drawn, shares, drawn_depth, bottom, out / "node_responses.png",
            f"{title}: average response of every node over {samples} samples (label: soft count, % of samples); "
            f"under the {what}: the {top} of {draws:,} samples with the highest path probability")

    plots.plot_leaf_responses(node_images[mix.leaf_nodes], shares[mix.leaf_nodes], out / "leaf_responses.png",
                              f"{title}: leaf average responses over {samples} samples (label: leaf, soft count %)")
    plots.plot_gating(cov, corr, scores, init_scores, out / "gating_covariance.png",
                      f"{title}: leaf gates over {draws:,} draws of z, leaves in "
                      f"{'tree' if mix.is_tree else 'index'} order", mix.is_tree)

    leaf_imgs = np.stack([to_uint8(mix.leaf_images(z_draw[leaf_top[i]].to(device), i))
                          for i in range(mix.num_leaves)], axis=1)  # (top, L, H, W, C)
    plots.plot_leaf_samples(leaf_imgs, out / "leaf_samples.png",
                            f"{title}: column i = leaf i's generator alone at its {top} most likely z "
                            f"(of {draws:,}; highest gate first)")

    grid_cols = math.ceil(math.sqrt(grid))
    plots.plot_grid(_images(G, z_draw[:grid], device, batch_size), out / "samples.png",
                    f"{title}: {grid} samples, z ~ N(0, I)", grid_cols)
    _, kept, threshold = truncate_least_likely(z_draw, TRUNCATION_DROP)
    plots.plot_grid(_images(G, z_draw[kept[:grid]], device, batch_size), out / "samples_truncated.png",
                    f"{title}: {grid} samples, least likely 25% of z dropped (||z|| <= {threshold:.2f})", grid_cols)

    depths = mix.node_depths
    record = {
        "model": spec.name, "family": spec.family, "leaves": spec.leaves, "num_leaves": mix.num_leaves,
        "depth": mix.depth if mix.is_tree else None, "dataset": cfg.dataset,
        "generator": {"path": str(path), "sha256": file_digest(path, "sha256"), "steps": steps},
        "settings": {"samples": samples, "draws": draws, "top": top, "grid": grid, "seed_samples": seed,
                     "seed_draws": seed + 1, "max_depth": max_depth, "drawn_depth": drawn_depth,
                     "permutations": permutations, "permutation_seed": seed, "truncation_drop": TRUNCATION_DROP},
        "soft_counts": {
            "units": f"sum over the {samples} samples of each node's path probability (root = {samples})",
            "nodes": counts.tolist(), "node_depths": depths.tolist(),
            "by_depth": [counts[depths == d].tolist() for d in range(int(depths.max()) + 1)],
        },
        "leaf_usage": {"mean_gate": leaf_gates.mean(0).tolist(),
                       "top_gate_mean": [float(leaf_gates[leaf_top[i], i].mean()) for i in range(mix.num_leaves)],
                       "units": f"gate values over the {draws} draws; top_gate_mean: mean gate at the leaf's top {top} z"},
        "block_score": {
            "order": "tree (left to right)" if mix.is_tree else "index (ME has no tree: a control, expected ~1)",
            "definition": "B = S / E[S]; S = mass-weighted mean depth of the lowest common ancestor of leaf pairs "
                          "i != j, over d-1, with mass |A_ij| (absolute) or max(A_ij, 0) (positive); E[S] under a "
                          "uniformly random leaf order (hmogbench.interpret.gating_stats)",
            **_score_dicts(stats["scores"]),
            "at_initialisation": {
                "what": f"the same model rebuilt with its training seed {cfg.seed} before any training step, "
                        "same draws: the structure the product-of-gates parametrisation alone gives",
                **_score_dicts(init["scores"]),
            },
        },
        "truncation": {"drop": TRUNCATION_DROP, "kept": len(kept), "of": draws, "norm_threshold": threshold,
                       "rule": "drop the draws with the largest ||z|| (lowest N(0, I) density)"},
        "files": files,
        "provenance": provenance({"run": str(run), "out": str(out), "samples": samples, "draws": draws, "top": top,
                                  "seed": seed, "grid": grid, "max_depth": max_depth, "permutations": permutations,
                                  "batch_size": batch_size, "train_config": cfg.to_dict()}, device),
    }
    write_text_atomic(out / "figures.md", captions(record))
    write_json_atomic(out / "figures.json", record)
    return record


def _score_line(name: str, score: dict | None, init: dict | None) -> str:
    if score is None:
        return f"- {name}: no block score (needs 2^d >= 4 leaves and some off-diagonal mass)"
    levels = ", ".join(f"level {k + 1}: {r:.2f}" for k, r in enumerate(score["level_ratios"]))
    at_init = f"{init['score']:.3f}" if init is not None else "none"
    return (f"- {name}: **B = {score['score']:.3f}** (at initialisation: {at_init}; random leaf order: 1; max "
            f"{score['max_score']:.2f}); over {score['permutations']} random leaf orders S = "
            f"{score['permutation_mean']:.4f} ± {score['permutation_std']:.4f} vs {score['statistic']:.4f} observed, "
            f"z = {score['z']:.1f}, p = {score['p_value']:.4f}; per level s_k / E[s_k]: {levels}")


def captions(record: dict[str, Any]) -> str:
    """figures.md: one caption per figure, with the numbers of ``record`` (figures.json)."""
    s, model = record["settings"], record["model"]
    steps = record["generator"]["steps"]
    head = (f"# Interpretability figures: {model} on {record['dataset']}\n\n"
            f"Checkpoint `{record['generator']['path']}` ({steps if steps is not None else '?'} generator steps, "
            f"sha256 {record['generator']['sha256'][:12]}…). Seeds: samples {s['seed_samples']}, draws {s['seed_draws']}.\n")
    parts = [head]
    if "node_responses.png" in record["files"]:
        bottom = "leaf" if s["drawn_depth"] == record["depth"] else f"depth-{s['drawn_depth']} node (a subtree)"
        parts.append(f"## node_responses.png\nThe average response of every node of the tree (thesis Fig. 5.24–5.30, "
                     f"paper Fig. 12–13): the mean of {s['samples']} samples weighted by the node's soft count (the "
                     f"product of the gates on its path); the label is the soft count as a share of the samples, and "
                     f"the shares of one level sum to 100%. Drawn depth {s['drawn_depth']} of {record['depth']}. Under "
                     f"each {bottom}: the {s['top']} samples G(z), of {s['draws']:,} draws, where its path probability "
                     f"is highest.\n")
    parts.append(f"## leaf_responses.png\nEach leaf's average response (thesis Fig. 5.10 / 5.18): the mean of "
                 f"{s['samples']} samples weighted by the leaf's gate.\n")
    bs = record["block_score"]
    lines = [_score_line(f"{matrix}, {mass} mass", bs["by_mass"][mass][matrix],
                         bs["at_initialisation"]["by_mass"][mass][matrix])
             for mass in (bs["mass"], *(m for m in bs["by_mass"] if m != bs["mass"]))
             for matrix in ("covariance", "correlation")]
    parts.append(f"## gating_covariance.png\nCovariance and correlation of the {record['num_leaves']} leaf gates over "
                 f"{s['draws']:,} draws of z (thesis Fig. 5.11 / 5.19, paper Fig. 11), leaves in {bs['order']} order. "
                 f"Block score ({bs['definition']}); the figure shows the {bs['mass']}-mass scores. 'At "
                 f"initialisation': {bs['at_initialisation']['what']}.\n\n" + "\n".join(lines) + "\n")
    parts.append(f"## leaf_samples.png\nColumn i: leaf i's generator alone, trunk(G_i(z)), at the {s['top']} z of "
                 f"{s['draws']:,} draws where leaf i's gate is highest, highest first (thesis Fig. 5.20–5.21). "
                 f"{'Constant leaves do not depend on z, so each column repeats one image.' if record['leaves'] == 'constant' else ''}\n")
    t = record["truncation"]
    parts.append(f"## samples.png, samples_truncated.png\nThe first {s['grid']} samples of the draws, and the first "
                 f"{s['grid']} after dropping the least likely {100 * t['drop']:.0f}% of {t['of']:,} draws of z (under "
                 f"N(0, I): the largest ||z||; kept ||z|| <= {t['norm_threshold']:.3f}), as the paper's Fig. 10.\n")
    return "\n".join(parts)
