"""Features of a whole image set, in batches, with a progress bar."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .spaces import Extractor, load_space


def extract_features(images: torch.Tensor, space: str | Extractor, *, weights: str | Path | None = None,
                     device: str | torch.device = "cpu", batch_size: int = 50, progress: bool = False,
                     desc: str | None = None) -> np.ndarray:
    """Images uint8 (N, C, H, W) in [0, 255] (or float in [0, 1]) -> float32 features (N, D).

    ``space`` is a feature-space name (loaded with ``weights``/``device``) or a loaded ``Extractor``."""
    extractor = space if isinstance(space, Extractor) else load_space(space, weights=weights, device=device)
    if images.ndim != 4 or len(images) == 0:
        raise ValueError(f"expected a non-empty image tensor (N, C, H, W), got shape {tuple(images.shape)}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    out: np.ndarray | None = None
    with tqdm(total=len(images), unit="img", disable=not progress,
              desc=desc or f"{extractor.space.name} features") as bar:
        for start in range(0, len(images), batch_size):
            batch = extractor(images[start:start + batch_size]).cpu().numpy()
            if out is None:
                out = np.empty((len(images), batch.shape[1]), dtype=np.float32)
            out[start:start + len(batch)] = batch
            bar.update(len(batch))
    return out
