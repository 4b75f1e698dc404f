"""Toy experiments end to end: train one model on one toy set, sample, score, draw.

Settings follow the authors' toy scripts (notes section 1.11): 2,500 points, batch 16, an "epoch"
of 2500 // 16 = 156 steps, Adam amsgrad (0.5, 0.999), D lr 1e-3, G lr 8e-3 for ME/HME (``lr*8``
in gan_toy.py) and 1e-3 for the competitors, non-saturating loss for ME/HME, MEGAN's balance
weight 10, one D step per G step. The authors ran 300 epochs; ``epochs`` is a config value.
z is 1-D for the spiral (thesis text; the code used 2-D) and 2-D for the Gaussian mixture (paper).
MADGAN's G loss is -log D_0 unsaturated ('log-softmax'): the authors' madgan_toy.py applies
BCEWithLogits to the softmax probability (a bug), which is neither of the image runs' two choices.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..models.generator import build_toy_models
from ..models.heads import MultiHead
from ..models.spec import ModelSpec
from ..runtime.provenance import provenance, write_json_atomic
from ..training import LoopSettings, seed_everything, train_gan
from ..training.config import ConfigError
from ..training.objectives import Objective, build_objective
from .coverage import mode_coverage, uniform_baseline
from .data import load_toy
from .grid import TOY_DATASETS, TOY_Z_DIM


@dataclass
class ToyConfig:
    dataset: str = "gmm"
    model: str = "HME-L-3"
    seed: int = 2019  # training seed
    data_seed: int = 2019  # the toy data set (same for every model)
    points: int = 2500
    z_dim: int | None = None  # None: 1 for spiral, 2 for gmm
    epochs: int = 300
    batch_size: int = 16
    lr_d: float = 1e-3
    lr_g: float | None = None  # None: 8e-3 for ME/HME, 1e-3 for competitors
    megan_balance_weight: float = 10.0
    num_samples: int = 2500  # samples drawn for figures and coverage
    checkpoint_every: int = 1000
    log_every: int = 50

    def __post_init__(self):
        if self.dataset not in TOY_DATASETS:
            raise ConfigError(f"toy config key 'dataset' = {self.dataset!r}: expected one of {TOY_DATASETS}")
        try:
            ModelSpec.parse(self.model)
        except ValueError as exc:
            raise ConfigError(f"toy config key 'model': {exc}") from None
        for key in ("points", "epochs", "batch_size", "num_samples"):
            if not isinstance(getattr(self, key), int) or getattr(self, key) < 1:
                raise ConfigError(f"toy config key {key!r} = {getattr(self, key)!r}: expected an integer >= 1")

    @property
    def spec(self) -> ModelSpec:
        return ModelSpec.parse(self.model)

    @property
    def resolved_z_dim(self) -> int:
        return self.z_dim or TOY_Z_DIM[self.dataset]

    @property
    def steps(self) -> int:
        return self.epochs * (self.points // self.batch_size)

    @property
    def resolved_lr_g(self) -> float:
        if self.lr_g is not None:
            return self.lr_g
        return self.lr_d * self.spec.entry.toy_lr_g_factor


def per_generator(G, z: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """What each generator produces, as (samples, their z) per generator.

    ME/HME: the samples whose largest gating weight is that leaf; MEGAN: those the gate selected;
    MADGAN/MGAN (no gate): that generator's output for every z."""
    with torch.no_grad():
        if isinstance(G.head, MultiHead):
            x, labels = G.forward_all_heads(z)
            return [(x[labels == k], z) for k in range(G.num_generators)]
        x, out = G.generate(z)
        owner = out.weights.argmax(1)
        return [(x[owner == k], z[owner == k]) for k in range(G.num_generators)]


TOY_MADGAN_G_LOSS = "log-softmax"


def toy_objective(cfg: ToyConfig) -> tuple[str, Objective]:
    """The objective of a toy run and its name (the family's ``toy_objective``: 'ns' for FC/ME/HME, else the
    competitor's), one D step per G step."""
    spec = cfg.spec
    name = spec.entry.toy_objective
    return name, build_objective(name, 1, spec.num_generators, megan_balance_weight=cfg.megan_balance_weight,
                                 madgan_g_loss=TOY_MADGAN_G_LOSS)


def run_toy(cfg: ToyConfig, out_dir: str | Path, progress: bool = True) -> dict[str, Any]:
    """Train, sample ``num_samples`` points, compute coverage (gmm) and write figures + metrics.json."""
    from .plots import plot_samples, plot_tree  # matplotlib only when drawing

    out_dir = Path(out_dir)
    data = load_toy(cfg.dataset, cfg.points, cfg.data_seed)
    spec = cfg.spec
    seed_everything(cfg.seed)
    G, D = build_toy_models(spec, cfg.resolved_z_dim)
    objective_name, objective = toy_objective(cfg)
    settings = LoopSettings(steps=cfg.steps, batch_size=cfg.batch_size, seed=cfg.seed, lr_g=cfg.resolved_lr_g,
                            lr_d=cfg.lr_d, checkpoint_every=cfg.checkpoint_every, log_every=cfg.log_every)
    config = {"kind": "toy", **dataclasses.asdict(cfg), "objective": objective_name}

    z = torch.randn(cfg.num_samples, cfg.resolved_z_dim, generator=torch.Generator().manual_seed(cfg.seed + 1))
    G.eval()
    with torch.no_grad():
        initial = G(z)
    G.train()
    train_gan(G, D, objective, data.points, out_dir, settings, config, progress=progress)
    G.eval()
    with torch.no_grad():
        samples, head_out = G.generate(z)

    metrics: dict[str, Any] = {"dataset": cfg.dataset, "model": spec.name, "steps": cfg.steps}
    if data.means is not None:
        lo, hi = float(data.points.min()) - 1, float(data.points.max()) + 1
        metrics["coverage"] = mode_coverage(samples, data.means, data.stds)
        metrics["coverage_at_init"] = mode_coverage(initial, data.means, data.stds)
        metrics["coverage_uniform_baseline"] = uniform_baseline(data.means, data.stds, lo, hi)
    parts = per_generator(G, z)
    metrics["samples_per_generator"] = [int(len(x)) for x, _ in parts]
    plot_samples(data, samples, z, parts, spec.name, metrics.get("coverage"), out_dir / "samples.png")
    if spec.entry.gating == "tree":
        with torch.no_grad():
            node_probs = G.head.gating.node_probs(z)
        plot_tree(data, samples, z, node_probs, spec.size, spec.name, out_dir / "tree.png")
    write_json_atomic(out_dir / "metrics.json", {**metrics, "provenance": provenance(config)})
    return metrics
