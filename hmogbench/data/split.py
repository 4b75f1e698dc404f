"""Seeded train/test splits that come back identical on every machine and library version.

An image goes to the test set when the SHA-256 of ``"<seed>/<name>"`` is among the ``test_count``
smallest: a function of the seed and the file names only, not of listing order, NumPy's or torch's
random streams. (The authors used ``torch.randperm`` under a seed that was not recorded, so their
exact split cannot be recovered either way.)
"""

from __future__ import annotations

import hashlib

import numpy as np

SPLIT_SEED = 2019  # the thesis's first seed
TEST_SHARE_CAP = 0.2
RULE = "test = the test_count images with the smallest sha256('<seed>/<name>')"


def split_key(seed: int, name: str) -> bytes:
    return hashlib.sha256(f"{seed}/{name}".encode()).digest()


def hashed_split(names: list[str], test_count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices into ``names`` (each array ascending): (train, test) with ``len(test) == test_count``."""
    if not 0 < test_count < len(names):
        raise ValueError(f"test_count must be between 1 and {len(names) - 1} (the set has {len(names)} images), "
                         f"got {test_count}")
    if len(set(names)) != len(names):
        raise ValueError("image names must be unique to split by name")
    order = sorted(range(len(names)), key=lambda i: split_key(seed, names[i]))
    test = np.sort(np.array(order[:test_count], dtype=np.int64))
    train = np.sort(np.array(order[test_count:], dtype=np.int64))
    return train, test


def default_test_count(published: int, available: int) -> int:
    """The thesis's held-out count, or TEST_SHARE_CAP of the images where the source is a small subset."""
    return min(published, int(TEST_SHARE_CAP * available))


def split_record(names: list[str], train: np.ndarray, test: np.ndarray, seed: int) -> dict:
    """The manifest's description of a hashed split: rule, seed, counts, fingerprint of the test names."""
    return {"rule": RULE, "seed": seed, "test_count": len(test), "train_count": len(train),
            "test_names_sha256": names_digest([names[i] for i in test])}


def names_digest(names: list[str]) -> str:
    """SHA-256 of the newline-joined names: a short fingerprint of which images a split holds."""
    return hashlib.sha256("\n".join(names).encode()).hexdigest()
