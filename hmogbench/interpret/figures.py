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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..pictures import interpretability as plots
from ..runtime.provenance import file_digest, provenance, write_json_atomic, write_text_atomic
from ..training.files import RUN_INFO
from ..training.records import trained_on
from ..training.sampling import draw_z, generator_path, load_generator, to_uint8
from .gating_stats import MASSES, block_score, gate_correlation, gate_covariance
from .mixture import Mixture, require_mixture
from .outputs import output_files
from .responses import draw_node_probs, node_average_responses, top_indices
from .settings import FIGURE_DEFAULTS, FigureSettings
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


def _run_info(path: Path) -> dict:
    """run.json beside generator.pt ({} if absent or unreadable)."""
    try:
        info = json.loads((path.parent / RUN_INFO).read_text())
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def check_settings(settings: FigureSettings) -> None:
    """Each count at least its least value, and enough draws for the top samples and the truncated grid."""
    for name, least in (("samples", 1), ("top", 1), ("grid", 1), ("max_depth", 1), ("permutations", 0)):
        if getattr(settings, name) < least:
            raise ValueError(f"{name} = {getattr(settings, name)}: expected an integer >= {least}")
    need = max(settings.top, math.ceil(settings.grid / (1 - TRUNCATION_DROP)), 2)
    if settings.draws < need:
        raise ValueError(f"draws = {settings.draws}: need at least {need} (top = {settings.top}; "
                         f"grid = {settings.grid} truncated samples)")


@dataclass
class Checkpoint:
    """One trained ME/HME checkpoint seen for its figures: G (eval mode on ``device``), its config, its mixture
    view, the fixed draws of z (``draws`` x z_dim, seed + 1), the set it trained on (as prepared: ``training.records.trained_on``)
    and the figures' common title."""

    path: Path
    G: torch.nn.Module
    cfg: Any  # TrainConfig
    mix: Mixture
    z_draw: torch.Tensor
    steps: int | None
    data: str
    title: str
    device: str | torch.device
    batch_size: int

    @classmethod
    def load(cls, run: str | Path, settings: FigureSettings, device, batch_size: int) -> "Checkpoint":
        path = generator_path(run)
        G, cfg = load_generator(path, device)
        require_mixture(cfg.spec, str(path))
        info = _run_info(path)
        steps, data = info.get("steps_done"), trained_on(info, cfg.to_dict())
        title = f"{cfg.spec.name} ({data}" + (f", {steps} G steps)" if steps is not None else ")")
        return cls(path, G, cfg, Mixture(G, cfg.spec, str(path)), draw_z(settings.draws, G.z_dim, settings.seed + 1),
                   steps, data, title, device, batch_size)

    def images(self, z: torch.Tensor) -> np.ndarray:
        """uint8 (N, H, W, C) samples G(z)."""
        return _images(self.G, z, self.device, self.batch_size)


def draw_node_responses(ck: Checkpoint, s: FigureSettings, node_images: np.ndarray, shares: np.ndarray,
                        probs: torch.Tensor, out: Path) -> int:
    """node_responses.png of a tree: the top ``max_depth`` levels, the top samples under the bottom drawn nodes.
    Returns the drawn depth."""
    mix = ck.mix
    drawn_depth = min(mix.depth, s.max_depth)
    level = np.arange(2**drawn_depth - 1, 2 ** (drawn_depth + 1) - 1)  # bottom drawn nodes
    bottom_top = top_indices(probs[:, level], s.top)
    bottom = ck.images(ck.z_draw[bottom_top.reshape(-1)])
    bottom = bottom.reshape(len(level), s.top, *bottom.shape[1:])
    what = ("leaves" if drawn_depth == mix.depth
            else f"depth-{drawn_depth} subtrees of {2 ** (mix.depth - drawn_depth)} leaves (top {drawn_depth} of "
                 f"{mix.depth} levels drawn)")
    plots.plot_node_responses(
        node_images[: 2 ** (drawn_depth + 1) - 1], shares, drawn_depth, bottom, out / "node_responses.png",
        f"{ck.title}: average response of every node over {s.samples} samples (label: soft count, % of samples); "
        f"under the {what}: the {s.top} of {s.draws:,} samples with the highest path probability")
    return drawn_depth


def draw_leaves(ck: Checkpoint, s: FigureSettings, node_images: np.ndarray, shares: np.ndarray, stats: dict,
                init: dict, leaf_top: np.ndarray, out: Path) -> None:
    """leaf_responses.png, gating_covariance.png and leaf_samples.png."""
    mix, title = ck.mix, ck.title
    plots.plot_leaf_responses(node_images[mix.leaf_nodes], shares[mix.leaf_nodes], out / "leaf_responses.png",
                              f"{title}: leaf average responses over {s.samples} samples (label: leaf, soft count %)")
    plots.plot_gating(stats["covariance"], stats["correlation"], stats["scores"][HEADLINE_MASS],
                      init["scores"][HEADLINE_MASS], out / "gating_covariance.png",
                      f"{title}: leaf gates over {s.draws:,} draws of z, leaves in "
                      f"{'tree' if mix.is_tree else 'index'} order", mix.is_tree)
    leaf_imgs = np.stack([to_uint8(mix.leaf_images(ck.z_draw[leaf_top[i]].to(ck.device), i))
                          for i in range(mix.num_leaves)], axis=1)  # (top, L, H, W, C)
    plots.plot_leaf_samples(leaf_imgs, out / "leaf_samples.png",
                            f"{title}: column i = leaf i's generator alone at its {s.top} most likely z "
                            f"(of {s.draws:,}; highest gate first)")


def draw_sample_grids(ck: Checkpoint, s: FigureSettings, out: Path) -> dict[str, Any]:
    """samples.png and samples_truncated.png; returns figures.json's ``truncation`` entry."""
    grid_cols = math.ceil(math.sqrt(s.grid))
    plots.plot_grid(ck.images(ck.z_draw[: s.grid]), out / "samples.png",
                    f"{ck.title}: {s.grid} samples, z ~ N(0, I)", grid_cols)
    _, kept, threshold = truncate_least_likely(ck.z_draw, TRUNCATION_DROP)
    plots.plot_grid(ck.images(ck.z_draw[kept[: s.grid]]), out / "samples_truncated.png",
                    f"{ck.title}: {s.grid} samples, least likely 25% of z dropped (||z|| <= {threshold:.2f})",
                    grid_cols)
    return {"drop": TRUNCATION_DROP, "kept": len(kept), "of": s.draws, "norm_threshold": threshold,
            "rule": "drop the draws with the largest ||z|| (lowest N(0, I) density)"}


def make_figures(run: str | Path, out: str | Path, samples: int = FIGURE_DEFAULTS.samples,
                 draws: int = FIGURE_DEFAULTS.draws, top: int = FIGURE_DEFAULTS.top,
                 seed: int = FIGURE_DEFAULTS.seed, grid: int = FIGURE_DEFAULTS.grid,
                 max_depth: int = FIGURE_DEFAULTS.max_depth, permutations: int = FIGURE_DEFAULTS.permutations,
                 batch_size: int = 100, device: str | torch.device = "cpu", progress: bool = True) -> dict[str, Any]:
    """Write every figure of the checkpoint ``run`` (a run directory or its generator.pt) into ``out``.

    samples: M, draws for the node averages (thesis: 500). draws: z draws for the gate statistics,
    the top-gate samples and the sample grids (thesis: 10,000). top: samples per leaf (thesis: 5).
    grid: images per sample grid. Returns the content of figures.json."""
    s = FigureSettings(samples=samples, draws=draws, top=top, grid=grid, max_depth=max_depth,
                       permutations=permutations, seed=seed)
    check_settings(s)
    ck = Checkpoint.load(run, s, device, batch_size)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)

    # node responses over M samples
    averages, counts = node_average_responses(ck.mix, draw_z(samples, ck.G.z_dim, seed), batch_size, device, progress)
    shares = (counts / samples).numpy()
    node_images = to_uint8(averages.float())  # (nodes, H, W, C)

    # gates over the draws, for the trained model and for the same model at initialisation
    stats = gate_statistics(ck.mix, ck.z_draw, permutations, seed, device, progress)
    initial = Mixture(initial_generator(ck.cfg).to(device), ck.cfg.spec, str(ck.path))
    init = gate_statistics(initial, ck.z_draw, permutations, seed, device)
    leaf_top = top_indices(stats["probs"][:, ck.mix.leaf_nodes], top)  # (L, top)

    drawn_depth = draw_node_responses(ck, s, node_images, shares, stats["probs"], out) if ck.mix.is_tree else None
    draw_leaves(ck, s, node_images, shares, stats, init, leaf_top, out)
    truncation = draw_sample_grids(ck, s, out)
    record = figures_record(ck, s, counts, stats, init, leaf_top, drawn_depth, truncation, {
        "run": str(run), "out": str(out), "samples": samples, "draws": draws, "top": top, "seed": seed,
        "grid": grid, "max_depth": max_depth, "permutations": permutations, "batch_size": batch_size,
        "train_config": ck.cfg.to_dict()})
    write_text_atomic(out / "figures.md", captions(record))
    write_json_atomic(out / "figures.json", record)
    return record


def figures_record(ck: Checkpoint, s: FigureSettings, counts: torch.Tensor, stats: dict, init: dict,
                   leaf_top: np.ndarray, drawn_depth: int | None, truncation: dict, config: dict) -> dict[str, Any]:
    """figures.json: the model, the generator file, the settings, soft counts, leaf usage, block scores, the
    truncation and the provenance of ``config`` (what was asked)."""
    spec, mix, leaf_gates, top = ck.cfg.spec, ck.mix, stats["gates"], s.top
    depths = mix.node_depths
    return {
        "model": spec.name, "family": spec.family, "leaves": spec.leaves, "num_leaves": mix.num_leaves,
        "depth": mix.depth if mix.is_tree else None, "dataset": ck.cfg.dataset, "train_data": ck.data,
        "generator": {"path": str(ck.path), "sha256": file_digest(ck.path, "sha256"), "steps": ck.steps},
        "settings": {"samples": s.samples, "draws": s.draws, "top": top, "grid": s.grid, "seed_samples": s.seed,
                     "seed_draws": s.seed + 1, "max_depth": s.max_depth, "drawn_depth": drawn_depth,
                     "permutations": s.permutations, "permutation_seed": s.seed, "truncation_drop": TRUNCATION_DROP},
        "soft_counts": {
            "units": f"sum over the {s.samples} samples of each node's path probability (root = {s.samples})",
            "nodes": counts.tolist(), "node_depths": depths.tolist(),
            "by_depth": [counts[depths == d].tolist() for d in range(int(depths.max()) + 1)],
        },
        "leaf_usage": {"mean_gate": leaf_gates.mean(0).tolist(),
                       "top_gate_mean": [float(leaf_gates[leaf_top[i], i].mean()) for i in range(mix.num_leaves)],
                       "units": f"gate values over the {s.draws} draws; top_gate_mean: mean gate at the leaf's top "
                                f"{top} z"},
        "block_score": {
            "order": "tree (left to right)" if mix.is_tree else "index (ME has no tree: a control, expected ~1)",
            "definition": "B = S / E[S]; S = mass-weighted mean depth of the lowest common ancestor of leaf pairs "
                          "i != j, over d-1, with mass |A_ij| (absolute) or max(A_ij, 0) (positive); E[S] under a "
                          "uniformly random leaf order (hmogbench.interpret.gating_stats)",
            **_score_dicts(stats["scores"]),
            "at_initialisation": {
                "what": f"the same model rebuilt with its training seed {ck.cfg.seed} before any training step, "
                        "same draws: the structure the product-of-gates parametrisation alone gives",
                **_score_dicts(init["scores"]),
            },
        },
        "truncation": truncation,
        "files": output_files(spec.family),
        "provenance": provenance(config, ck.device),
    }


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
    head = (f"# Interpretability figures: {model} on {record.get('train_data') or record['dataset']}\n\n"
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
