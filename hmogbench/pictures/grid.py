"""A sample grid PNG: the first 64 of uint8 samples (N, H, W, C), 8 x 8."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data.images import mosaic
from .style import plt, save_figure, styled

GRID = 8


def check_samples(images: np.ndarray, what: str = "samples") -> np.ndarray:
    """``images`` must be uint8 (N, H, W, C) with C 1 or 3 and N >= 1; returns them."""
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] not in (1, 3) or not len(images):
        raise ValueError(f"{what}: expected uint8 images (N, H, W, C) with C 1 or 3, "
                         f"got {images.dtype} {tuple(images.shape)}")
    return images


def build_sample_grid(images: np.ndarray, title: str | None = None):
    """The figure of the first GRID*GRID images, row-major, 2 screen pixels per image pixel."""
    tiles = mosaic(check_samples(images)[: GRID * GRID], ncols=GRID)
    with styled():
        h, w = tiles.shape[:2]
        fig, ax = plt.subplots(figsize=(2 * w / 100, 2 * h / 100 + (0.3 if title else 0)))
        if tiles.shape[-1] == 1:
            ax.imshow(tiles[..., 0], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        else:
            ax.imshow(tiles, interpolation="nearest")
        ax.set_axis_off()
        if title:
            ax.set_title(title)
    return fig


def save_sample_grid(images: np.ndarray, path: str | Path, title: str | None = None) -> Path:
    """Write the 8 x 8 grid of ``images`` (uint8 (N, H, W, C)) as PNG at ``path``, atomically."""
    return save_figure(build_sample_grid(images, title), path)
