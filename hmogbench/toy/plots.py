"""Toy figures in the style of thesis Fig. 5.4/5.5 and paper Fig. 6-8.

Data are black crosses; samples are dots coloured by the region of z that produced them (1-D z:
the normal CDF of z on a rainbow map; 2-D z: the angle of z on the hsv wheel, as the authors'
``save_animation``). An inset shows p(z) in the same colours.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from ..runtime.provenance import atomic_path  # noqa: E402
from .data import ToyData  # noqa: E402


def z_colours(z: torch.Tensor):
    """(N, 1) or (N, 2) z -> (N, 4) RGBA colours of its region."""
    if z.shape[1] == 1:
        u = 0.5 * (1 + torch.erf(z[:, 0] / math.sqrt(2)))
        return plt.get_cmap("rainbow")(u.numpy())
    angle = (torch.atan2(z[:, 1], z[:, 0]) % (2 * math.pi)) / (2 * math.pi)
    return plt.get_cmap("hsv")(angle.numpy())


def _scatter(ax, data: ToyData, x: torch.Tensor, z: torch.Tensor, size: float = 4):
    ax.scatter(data.points[:, 0], data.points[:, 1], marker="x", c="black", s=size * 2, linewidths=0.5, alpha=0.35)
    if len(x):
        ax.scatter(x[:, 0], x[:, 1], c=z_colours(z), s=size, linewidths=0)
    lo, hi = data.points.min(0).values - 2, data.points.max(0).values + 2
    ax.set_xlim(float(lo[0]), float(hi[0]))
    ax.set_ylim(float(lo[1]), float(hi[1]))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_aspect("equal")


def _z_inset(fig, rect, z: torch.Tensor):
    ax = fig.add_axes(rect)
    if z.shape[1] == 1:
        grid = torch.linspace(-3, 3, 200)[:, None]
        ax.scatter(grid[:, 0], torch.zeros(200), c=z_colours(grid), s=12, marker="s")
        ax.set_yticks([])
    else:
        ax.scatter(z[:, 0], z[:, 1], c=z_colours(z), s=1)
        ax.set_aspect("equal")
        ax.set_yticks([])
    ax.set_xticks([])
    ax.set_title("p(z)", fontsize=7)


def _save(fig, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def plot_samples(data: ToyData, samples, z, parts, title: str, coverage: dict | None, path: Path) -> None:
    """Large panel: model samples over the data; below: one small panel per generator."""
    k = len(parts)
    cols = min(k, 8)
    rows = math.ceil(k / cols)
    total = 4.6 + 1.7 * rows  # figure height in inches: title, main panel, rows of small panels
    fig = plt.figure(figsize=(1.6 * cols, total))
    main = fig.add_axes([0.2, 1 - 4.3 / total, 0.6, 3.7 / total])
    _scatter(main, data, samples, z, size=5)
    label = title
    if coverage:
        label += (f"\nmodes covered {coverage['modes_covered']}/{coverage['modes_total']}, "
                  f"samples within 3σ of a mode {100 * coverage['quality_share']:.1f}%")
    main.set_title(label, fontsize=9)
    _z_inset(fig, [0.02, 1 - 1.9 / total, 0.14, 1.3 / total], z)
    for i, (x, zi) in enumerate(parts):
        r, c = divmod(i, cols)
        ax = fig.add_axes([c / cols + 0.005, (rows - 1 - r) * 1.7 / total + 0.01, 1 / cols - 0.01, 1.5 / total])
        _scatter(ax, data, x, zi, size=2)
        ax.set_title(f"G{i + 1} ({len(x)})", fontsize=7, pad=2)
    _save(fig, path)


def plot_tree(data: ToyData, samples, z, node_probs: torch.Tensor, depth: int, title: str, path: Path) -> None:
    """HME tree (thesis Fig. 5.4, paper Fig. 7): level l has 2^l boxes; a sample is drawn in the box
    of the level-l node with the highest path probability; each box's title gives the node's soft
    responsibility (mean path probability over samples, in %)."""
    leaves = 2**depth
    fig = plt.figure(figsize=(1.5 * leaves, 1.7 * (depth + 1) + 0.4))
    fig.suptitle(f"{title}: node responsibilities", fontsize=10)
    top = 0.93  # leave room for the figure title
    height = top / (depth + 1)
    for level in range(depth + 1):
        first, count = 2**level - 1, 2**level
        probs = node_probs[:, first : first + count]
        owner = probs.argmax(1)
        for i in range(count):
            width = 1.0 / count
            ax = fig.add_axes([i * width + width * 0.5 - 0.46 / leaves, top - (level + 1) * height + 0.02,
                               0.92 / leaves, height * 0.78])
            mask = owner == i
            _scatter(ax, data, samples[mask], z[mask], size=2)
            ax.set_title(f"{100 * float(probs[:, i].mean()):.1f}%", fontsize=7, pad=2)
    _save(fig, path)
