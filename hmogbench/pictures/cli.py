"""``hmogbench plot agreement|curves|over-training|grid``: the benchmark pictures as PNG files (also in the workflow's
HTML report)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..registry.datasets import dataset_names, in_thesis
from ..registry.feature_spaces import SPACES


def add_plot_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("plot", help="pictures: regenerated vs published, training curves, FD over training, "
                                    "sample grids (PNG)")
    kinds = p.add_subparsers(dest="plot", required=True)
    a = kinds.add_parser("agreement", help="regenerated vs published numbers of one thesis table and space")
    a.add_argument("dataset", help=", ".join(dataset_names(in_thesis)))
    a.add_argument("metrics", nargs="+", help="metrics JSON files of `hmogbench score --precomputed`")
    a.add_argument("--table", required=True, help="thesis table number, e.g. 5.3")
    a.add_argument("--space", required=True, help=f"feature space: {', '.join(SPACES)}")
    a.add_argument("--out", required=True, help="output .png")
    a.set_defaults(func=cmd_plot_agreement)
    c = kinds.add_parser("curves", help="training losses of the seeds' run directories")
    c.add_argument("runs", nargs="+", help="run directories (each with losses.csv, optionally run.json)")
    c.add_argument("--out", required=True, help="output .png")
    c.set_defaults(func=cmd_plot_curves)
    o = kinds.add_parser("over-training", help="FD (and recall, where recorded) over generator steps of one model's "
                                               "seeds, from their over-training files")
    o.add_argument("files", nargs="+", metavar="FILE",
                   help="over-training JSON files, one per seed (`hmogbench evaluate --over-training-out`)")
    o.add_argument("--out", required=True, help="output .png")
    o.set_defaults(func=cmd_plot_over_training)
    g = kinds.add_parser("grid", help="8 x 8 grid of the first 64 samples of a uint8 .npy (N x H x W x C)")
    g.add_argument("samples", help="uint8 .npy of images (N, H, W, C)")
    g.add_argument("--title", default=None, help="title above the grid (default: none)")
    g.add_argument("--out", required=True, help="output .png")
    g.set_defaults(func=cmd_plot_grid)
    return p


def _png(out: str) -> Path:
    if Path(out).suffix.lower() != ".png":
        raise ValueError(f"--out {out}: expected a .png path")
    return Path(out)


def cmd_plot_agreement(args: argparse.Namespace) -> int:
    from .agreement import save_agreement
    print(save_agreement(args.dataset, args.metrics, args.table, args.space, _png(args.out)))
    return 0


def cmd_plot_curves(args: argparse.Namespace) -> int:
    from .curves import save_curves
    print(save_curves(args.runs, _png(args.out)))
    return 0


def cmd_plot_over_training(args: argparse.Namespace) -> int:
    from .over_training import save_over_training
    print(save_over_training(args.files, _png(args.out)))
    return 0


def cmd_plot_grid(args: argparse.Namespace) -> int:
    from .grid import save_sample_grid
    out = _png(args.out)
    path = Path(args.samples)
    if not path.is_file():
        raise FileNotFoundError(f"samples file {path} does not exist")
    try:
        images = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise ValueError(f"{path}: expected a .npy array of uint8 images (N, H, W, C) ({exc})") from None
    if not isinstance(images, np.ndarray):
        raise ValueError(f"{path}: expected a .npy array, not an .npz archive")
    print(save_sample_grid(images, out, args.title or path.name))
    return 0
