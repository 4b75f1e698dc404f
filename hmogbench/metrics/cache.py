"""A cache of the features of fixed image sets (the real test sets), computed once per feature space.

Key: sha256 of the image array (dtype, shape and bytes) + feature space + weights sha256 + code version (the
package's, the shared feature plumbing's and the space's own registry ``code_version``) + the device type
and the precision the network ran in (fp32, tf32, bf16, fp16). Entries are
``<cache_dir>/<space>/<key[:24]>.npz`` holding ``features`` (float32, N x D) and ``meta`` (the key's fields as
JSON, checked on every read), written atomically. CPU and GPU fp32 features agree to float32 rounding, but
a cached number is only ever reused on the kind of device and in the precision that made it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch

from .. import __version__
from ..runtime.provenance import atomic_path
from .features import extract_features
from .spaces import FEATURE_CODE_VERSION, Extractor, FeatureSpace


def images_sha256(images: torch.Tensor) -> str:
    """sha256 over an image tensor's dtype, shape and bytes."""
    array = np.ascontiguousarray(images.detach().cpu().numpy())
    digest = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    digest.update(memoryview(array).cast("B"))
    return digest.hexdigest()


def code_version(space: FeatureSpace) -> str:
    """The code that made a space's features: package, shared plumbing and the space's own version."""
    return f"hmogbench {__version__}, features v{FEATURE_CODE_VERSION}, {space.name} v{space.code_version}"


def cache_meta(images: torch.Tensor, extractor: Extractor) -> dict:
    """The cache key's fields (JSON-able): images, space, weights, code version, device type, precision."""
    meta = {
        "images_sha256": images_sha256(images),
        "images_shape": list(images.shape),
        "space": extractor.space.name,
        "weights_sha256": extractor.weights.sha256 if extractor.weights else None,
        "code_version": code_version(extractor.space),
        "device_type": extractor.device.type,
        "precision": extractor.precision,
    }
    return meta


def cache_path(cache_dir: str | Path, meta: dict) -> Path:
    key = hashlib.sha256(json.dumps(meta, sort_keys=True).encode()).hexdigest()
    return Path(cache_dir) / meta["space"] / f"{key[:24]}.npz"


def _read(path: Path, meta: dict) -> np.ndarray | None:
    try:
        with np.load(path) as entry:
            if json.loads(str(entry["meta"])) == meta:
                return entry["features"]
    except (OSError, ValueError, KeyError):  # unreadable or foreign file: recompute and replace it
        pass
    return None


def cached_features(images: torch.Tensor, extractor: Extractor, cache_dir: str | Path, *, batch_size: int = 50,
                    progress: bool = False, desc: str | None = None) -> tuple[np.ndarray, Path, bool]:
    """Features (N, D) of ``images`` from the cache, computed and stored on a miss.

    Returns (features, entry path, whether it was a hit)."""
    meta = cache_meta(images, extractor)
    path = cache_path(cache_dir, meta)
    if path.exists() and (features := _read(path, meta)) is not None:
        return features, path, True
    features = extract_features(images, extractor, batch_size=batch_size, progress=progress, desc=desc)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, features=features, meta=np.array(json.dumps(meta, sort_keys=True)))
    return features, path, False
