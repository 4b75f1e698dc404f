"""What the feature-set metrics share: two feature sets checked and held as float64 on a device, and their
squared Euclidean distances computed in blocks of rows (never the whole N x M matrix at once)."""

from __future__ import annotations

from typing import Iterator

import numpy as np
import torch

DEFAULT_CHUNK_ELEMENTS = {"cpu": 2 ** 24, "cuda": 2 ** 27}  # float64 distance entries per block


def paired_features(real: np.ndarray | torch.Tensor, fake: np.ndarray | torch.Tensor, device: torch.device,
                    what: str, min_rows: int = 1, copy: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """real (N, D) and fake (M, D) as float64 tensors on ``device`` (``copy``: never the caller's memory, so that
    they may be changed in place); a one-line ValueError, prefixed ``what``, unless both are (N, D) with one D
    and at least ``min_rows`` rows (a smaller N is the caller's to refuse when ``min_rows`` is 1) and finite."""
    real, fake = (torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x) for x in (real, fake))
    rows = f" and N >= {min_rows}" if min_rows > 1 else ""
    if (real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]
            or min(len(real), len(fake)) < min_rows):
        raise ValueError(f"{what}: expected feature sets (N, D) with the same D{rows}, got {tuple(real.shape)} "
                         f"and {tuple(fake.shape)}")
    real, fake = real.to(device, torch.float64, copy=copy), fake.to(device, torch.float64, copy=copy)
    if not (torch.isfinite(real).all() and torch.isfinite(fake).all()):
        raise ValueError(f"{what}: features contain NaN or infinite values")
    return real, fake


def squared_distance_blocks(rows: torch.Tensor, cols: torch.Tensor, rows_per_block: int
                            ) -> Iterator[tuple[int, torch.Tensor]]:
    """(start, squared distances (b, len(cols))) of consecutive blocks of ``rows_per_block`` rows (the last may be
    shorter): |a|^2 + |b|^2 - 2 a.b, computed in place in the block and clamped at 0."""
    row_norms, col_norms = (rows * rows).sum(dim=1), (cols * cols).sum(dim=1)
    for start in range(0, len(rows), rows_per_block):
        d2 = rows[start:start + rows_per_block] @ cols.T
        d2.mul_(-2).add_(col_norms[None, :]).add_(row_norms[start:start + rows_per_block, None]).clamp_(min=0)
        yield start, d2
