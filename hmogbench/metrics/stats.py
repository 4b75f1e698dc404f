"""FID statistics files in pytorch-fid's format: a .npz with float64 ``mu`` (D,) and ``sigma`` (D, D).

pytorch-fid writes them with ``--save-stats`` (``save_fid_stats``: mean and ``np.cov`` of one image folder's
features) and reads any ``.npz`` path as one. ``hmogbench score --save-stats IMAGES OUT.npz`` writes the same
format, plus a sidecar OUT.json naming the feature space and weights; such a file is accepted as REAL (the FD
only: the k-NN and KID need features). A ``.npz`` holding ``mu`` or ``sigma`` is a statistics file; any other
``.npz`` is an image array (``hmogbench.data.images.load_image_array``).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from ..runtime.provenance import atomic_path, write_json_atomic
from .feature_files import read_sidecar, sidecar
from .fid import check_statistics

STATS_KEYS = ("mu", "sigma")
EXPECTED = "a pytorch-fid statistics file: a .npz with float arrays 'mu' (D,) and 'sigma' (D, D)"


def is_statistics_file(path: str | Path) -> bool:
    """Whether ``path`` is a .npz holding 'mu' or 'sigma' (a malformed one included: ``load_statistics``
    then says what is wrong). Anything unreadable is left to the image loader's errors."""
    path = Path(path)
    if path.suffix != ".npz" or not path.is_file():
        return False
    try:
        with np.load(path) as archive:
            return any(key in archive.files for key in STATS_KEYS)
    except (OSError, ValueError, zipfile.BadZipFile):
        return False


def refuse_as_fake(path: str | Path) -> None:
    """ValueError if FAKE is a statistics file: only REAL may be one (the fake set's features are scored)."""
    if isinstance(path, (str, Path)) and is_statistics_file(path):
        raise ValueError(f"{path}: a statistics file (mu, sigma) can only be REAL; FAKE must be images (or, with "
                         "--precomputed, a feature file)")


def load_statistics(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """A statistics file -> float64 mu (D,), sigma (D, D); ValueError naming the file and the keys expected."""
    path = Path(path)
    with np.load(path) as archive:
        found = sorted(archive.files)
        if any(key not in found for key in STATS_KEYS):
            raise ValueError(f"{path}: holds the arrays {found}; expected {EXPECTED}")
        mu, sigma = archive["mu"], archive["sigma"]
    if not (np.issubdtype(mu.dtype, np.floating) and np.issubdtype(sigma.dtype, np.floating)):
        raise ValueError(f"{path}: 'mu' is {mu.dtype}, 'sigma' {sigma.dtype}; expected {EXPECTED}")
    return check_statistics(mu, sigma, str(path))


def save_statistics(path: str | Path, mu: np.ndarray, sigma: np.ndarray, meta: dict | None = None) -> None:
    """Write mu (D,), sigma (D, D) as float64 to ``path`` (.npz, compressed as pytorch-fid's), and ``meta`` (if
    given) to the sidecar ``path`` .json; both atomically."""
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"{path}: statistics files are .npz (pytorch-fid's format)")
    mu, sigma = check_statistics(mu, sigma, str(path))
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, mu=mu, sigma=sigma)
    if meta is not None:
        write_json_atomic(sidecar(path), {**meta, "statistics": "pytorch-fid mu/sigma", "dims": int(len(mu))})


def statistics_meta(path: str | Path) -> dict | None:
    """The sidecar of a statistics file written by hmogbench, or None (e.g. a file of pytorch-fid's)."""
    meta = read_sidecar(path)
    return meta if meta is not None and "statistics" in meta else None


def read_statistics_file(path: str | Path) -> tuple[np.ndarray, np.ndarray, dict | None]:
    """(mu (D,), sigma (D, D), its sidecar or None) of a statistics file."""
    return (*load_statistics(path), statistics_meta(path))

