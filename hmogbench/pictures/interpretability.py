"""The interpretability figures of ``hmogbench figures`` (drawn with ``style``'s Agg backend and dpi). Images
come in as uint8 (N, H, W, C); ``hmogbench.interpret.figures`` computes what they show.

Every figure is written atomically (temporary file, then rename).
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Protocol

import numpy as np

from ..data.images import mosaic
from ..runtime.provenance import atomic_path
from .style import DPI, plt


class Score(Protocol):
    """What a block-score caption shows (a ``hmogbench.interpret.gating_stats.BlockScore``)."""

    score: float
    max_score: float


def _save(fig, path: str | Path, dpi: int = DPI) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
    plt.close(fig)


def _imshow(ax, image: np.ndarray, **kwargs) -> None:
    if image.shape[-1] == 1:
        ax.imshow(image[..., 0], cmap="gray", vmin=0, vmax=255, interpolation="nearest", **kwargs)
    else:
        ax.imshow(image, interpolation="nearest", **kwargs)


def _wrap(title: str, width_in: float, fontsize: float = 8) -> tuple[str, float]:
    """``title`` wrapped to a figure ``width_in`` inches wide -> (text, height of the title band in inches)."""
    chars = max(20, int(width_in * 120 / fontsize))  # ~15 characters per inch at 8 pt
    text = "\n".join(textwrap.fill(part, chars) for part in title.split("\n"))
    return text, 0.16 * fontsize / 8 * (text.count("\n") + 1) + 0.12


def _title(fig, text: str, fontsize: float = 8) -> None:
    fig.suptitle(text, fontsize=fontsize, y=1 - 0.04 / fig.get_figheight(), va="top")


def _mosaic_figure(image: np.ndarray, title: str, scale: float = 2.0):
    """A figure showing ``image`` at ``scale`` screen pixels per image pixel, under a wrapped title."""
    h, w = image.shape[:2]
    width_in = max(w * scale / DPI, 3.0)
    text, band = _wrap(title, width_in)
    fig = plt.figure(figsize=(width_in, h * scale / DPI + band))
    ax = fig.add_axes((0, 0, 1, h * scale / DPI / fig.get_figheight()))
    _imshow(ax, image)
    ax.set_axis_off()
    _title(fig, text)
    return fig, ax


def plot_grid(images: np.ndarray, path: str | Path, title: str, ncols: int | None = None) -> None:
    """Samples (N, H, W, C) as a grid, ``ncols`` wide (default: square-ish)."""
    ncols = ncols or math.ceil(math.sqrt(len(images)))
    fig, _ = _mosaic_figure(mosaic(images, ncols), title)
    _save(fig, path)


def plot_leaf_responses(images: np.ndarray, shares: np.ndarray, path: str | Path, title: str) -> None:
    """Leaf average responses (L, H, W, C) in leaf order, row-major; each labelled with its index and
    its share of the soft count (percent of the samples) when there are at most 64 leaves."""
    n, h, w, _ = images.shape
    ncols = 2 ** math.ceil(math.log2(n) / 2) if n > 1 else 1
    pad = 2
    fig, ax = _mosaic_figure(mosaic(images, ncols, pad=pad), title, scale=3.0 if h <= 32 else 2.0)
    if n <= 64:
        for i in range(n):
            r, k = divmod(i, ncols)
            ax.text(k * (w + pad) + 1, r * (h + pad) + 1, f"{i}: {100 * shares[i]:.1f}%", fontsize=5,
                    color="yellow", va="top", ha="left", bbox=dict(facecolor="black", alpha=0.5, pad=0.5, lw=0))
    _save(fig, path)


def plot_leaf_samples(images: np.ndarray, path: str | Path, title: str, max_cols: int = 32) -> None:
    """images (k, L, H, W, C): column i = leaf i, rows = its k most likely z. More than ``max_cols``
    leaves wrap into bands of ``max_cols`` columns, separated by a wider gap and labelled."""
    k, n, h, w, c = images.shape
    cols = min(n, max_cols)
    bands = []
    for start in range(0, n, cols):
        block = images[:, start : start + cols]
        if block.shape[1] < cols:  # pad the last band with blanks
            blank = np.full((k, cols - block.shape[1], h, w, c), 255, np.uint8)
            block = np.concatenate([block, blank], axis=1)
        bands.append(mosaic(block.reshape(k * cols, h, w, c), cols))
    scale = (2.0 if h <= 32 else 1.5) if len(bands) == 1 else (1.5 if h <= 32 else 1.0)
    if len(bands) == 1:
        fig, _ = _mosaic_figure(bands[0], title, scale=scale)
    else:  # each band under a blank strip that names its leaves
        gap = np.full((max(h // 2, 10), bands[0].shape[1], c), 255, np.uint8)
        fig, ax = _mosaic_figure(np.concatenate([x for band in bands for x in (gap, band)]), title, scale=scale)
        band_h = bands[0].shape[0] + gap.shape[0]
        for b in range(len(bands)):
            ax.text(1, b * band_h + gap.shape[0] / 2, f"leaves {b * cols}-{min(n, (b + 1) * cols) - 1}",
                    fontsize=6, va="center", ha="left")
    _save(fig, path)


def _block_caption(name: str, score: Score | None, init: Score | None, tree: bool) -> str:
    if score is None:
        return f"{name}\nblock score: none (needs 2^d >= 4 leaves and off-diagonal mass)"
    at_init = f"{init.score:.2f}" if init is not None else "none"
    return (f"{name}\nblock score B = {score.score:.2f} (at initialisation {at_init}; random order 1; "
            f"max {score.max_score:.2f})" + ("" if tree else "\nME has no tree: index order, a control"))


def plot_gating(cov: np.ndarray, corr: np.ndarray, scores: dict, init_scores: dict, path: str | Path, title: str,
                tree: bool) -> None:
    """Covariance | correlation of the leaf gates side by side, leaves in tree (or index) order, each
    titled with its block score and the same model's at initialisation (``scores`` / ``init_scores``:
    {'covariance': BlockScore | None, 'correlation': ...}).

    Colours: diverging, symmetric about 0, saturating at the largest off-diagonal |value| (the
    diagonal, the leaves' own variances, is clipped there so the off-diagonal structure shows).
    For a tree, lines and ticks mark the subtree boundaries of levels 1 (solid) and 2 (dotted)."""
    n = cov.shape[0]
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.6))
    off = ~np.eye(n, dtype=bool)
    for ax, matrix, name in ((axes[0], cov, "covariance"), (axes[1], corr, "correlation")):
        values = np.abs(np.nan_to_num(matrix[off])) if n > 1 else np.abs(matrix.ravel())
        vmax = float(values.max()) if values.size and values.max() > 0 else 1.0
        im = ax.imshow(np.ma.masked_invalid(matrix), cmap="RdBu_r", vmin=-vmax, vmax=vmax, interpolation="nearest")
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04).ax.tick_params(labelsize=7)
        ax.set_title(_block_caption(name, scores[name], init_scores[name], tree), fontsize=8)
        if tree and n >= 4:
            marks = [i - 0.5 for i in range(0, n + 1, n // 4)]
            ax.set_xticks(marks)
            ax.set_yticks(marks)
            ax.set_xticklabels([str(int(m + 0.5)) for m in marks], fontsize=6)
            ax.set_yticklabels([str(int(m + 0.5)) for m in marks], fontsize=6)
            for m in marks[1:-1]:
                style = "-" if m == n / 2 - 0.5 else ":"
                ax.axhline(m, color="0.4", lw=0.5, ls=style)
                ax.axvline(m, color="0.4", lw=0.5, ls=style)
        else:
            ax.tick_params(labelsize=6)
        ax.set_xlabel("leaf", fontsize=7)
        ax.set_ylabel("leaf", fontsize=7)
    text, band = _wrap(title, 11, fontsize=9)
    fig.suptitle(text, fontsize=9)
    fig.tight_layout()
    _save(fig, path)


def plot_node_responses(node_images: np.ndarray, shares: np.ndarray, depth: int, bottom_samples: np.ndarray,
                        path: str | Path, title: str) -> None:
    """The tree of average responses, levels 0..``depth`` (breadth-first nodes, 2^(depth+1) - 1 of them),
    each node labelled with its soft count as a share of the samples; under each bottom node its
    ``k`` samples, bottom_samples (2^depth, k, H, W, C), most likely first."""
    n_bottom, k = bottom_samples.shape[:2]
    if node_images.shape[0] != 2 ** (depth + 1) - 1 or n_bottom != 2**depth:
        raise ValueError(f"node_images {node_images.shape[0]} / bottom samples {n_bottom} do not fit depth {depth}")
    cell = 0.62 if n_bottom <= 16 else 0.5  # inches per bottom node
    level_gap, size = 1.55, 0.9  # vertical distance between levels, image size (in cell units)
    height = depth * level_gap + 1 + 0.3 + k * (size + 0.06) + 0.2
    text, title_in = _wrap(title, max(n_bottom * cell, 4.0))
    fig = plt.figure(figsize=(max(n_bottom * cell, 4.0), height * cell + title_in))
    ax = fig.add_axes((0, 0, 1, height * cell / fig.get_figheight()))
    ax.set_axis_off()
    fontsize = 6 if n_bottom <= 16 else 4.5

    def centre(node: int) -> tuple[float, float]:
        level = int(math.floor(math.log2(node + 1)))
        index = node - (2**level - 1)
        span = 2 ** (depth - level)
        return (index + 0.5) * span, -level * level_gap

    for node in range(node_images.shape[0]):
        x, y = centre(node)
        if node > 0:
            px, py = centre((node - 1) // 2)
            ax.plot([px, x], [py - size / 2 - 0.25, y + size / 2], color="0.5", lw=0.6, zorder=0)
        _imshow(ax, node_images[node], extent=(x - size / 2, x + size / 2, y - size / 2, y + size / 2))
        ax.text(x, y - size / 2 - 0.02, f"{100 * shares[node]:.1f}%", fontsize=fontsize, ha="center", va="top")
    y0 = -depth * level_gap - size / 2 - 0.35
    for b in range(n_bottom):
        x = b + 0.5
        for r in range(k):
            top = y0 - r * (size + 0.06)
            _imshow(ax, bottom_samples[b, r], extent=(x - size / 2, x + size / 2, top - size, top))
    ax.set_xlim(0, n_bottom)
    ax.set_ylim(-height + 0.5, 0.6)
    ax.set_aspect("equal")
    _title(fig, text)
    _save(fig, path)
