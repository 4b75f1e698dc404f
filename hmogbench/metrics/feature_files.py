"""Feature matrices on disk, each with a JSON sidecar saying what they are.

``X.npy``: float32 (N, D) features. ``X.json``: the feature space, the distance's name ("FID" or
"FD (<space>)"), the weights (path, sha256, status), N, the images' sha256 and, when the images had a
sidecar of their own (samples from ``hmogbench sample``), that sidecar as ``source``. Written atomically,
the .npy first: a .json means a complete pair.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..runtime.provenance import atomic_path, write_json_atomic


def sidecar(path: str | Path) -> Path:
    """``X.npy`` -> ``X.json``."""
    return Path(path).with_suffix(".json")


def read_sidecar(path: str | Path) -> dict | None:
    """The JSON next to ``path`` (``X.json`` for ``X.npy``), or None if there is none."""
    meta = sidecar(path)
    if not meta.exists():
        return None
    try:
        return json.loads(meta.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{meta}: not valid JSON ({exc})") from None


def save_features(path: str | Path, features: np.ndarray, meta: dict) -> None:
    """Write ``features`` (N, D) to ``path`` (.npy) and ``meta`` to its sidecar, both atomically."""
    path = Path(path)
    if path.suffix != ".npy":
        raise ValueError(f"{path}: feature files are .npy")
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.save(fh, np.asarray(features, dtype=np.float32))
    write_json_atomic(sidecar(path), {**meta, "n": int(len(features)), "dims": int(features.shape[1])})


def load_features(path: str | Path) -> tuple[np.ndarray, dict]:
    """(features (N, D) float32, sidecar) of a file written by ``save_features``."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"feature file {path} does not exist")
    meta = read_sidecar(path)
    if meta is None or "features" not in meta:
        raise ValueError(f"{path}: no sidecar {sidecar(path).name} naming its feature space "
                         "(write feature files with `hmogbench features`)")
    features = np.load(path)
    if features.ndim != 2 or len(features) != meta.get("n"):
        raise ValueError(f"{path}: expected a ({meta.get('n')}, D) matrix as its sidecar says, got {features.shape}")
    return features, meta
