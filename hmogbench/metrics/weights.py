"""Network weights for the Inception feature spaces: where they are, whether they are the accepted files.

Which files a space accepts and where they are looked for is the space's ``WeightsSource`` in the registry
(hmogbench/registry/feature_spaces.py). A weights file is *verified* when its sha256 is accepted there; any other file
still runs, but results computed with it are labelled "FD (unverified weights)". Nothing is downloaded unless
asked for explicitly.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..registry.feature_spaces import VERIFIED_STATUSES, WeightsSource, get_space, spaces_with_weights
from ..runtime.provenance import file_digest

DEFAULT_DIR = Path("resources") / "inception"  # relative to the working directory
FID_WEIGHTS_NAME = get_space("fid-inception").weights.file_names[0]  # the one name pytorch-fid asks torch.hub for


@dataclass(frozen=True)
class WeightsInfo:
    """A weights file and its verdict: status is 'official', 'reconstruction' or 'unverified'."""

    space: str
    path: Path
    sha256: str
    status: str

    @property
    def verified(self) -> bool:
        return self.status in VERIFIED_STATUSES

    def as_dict(self) -> dict[str, str]:
        return {"path": str(self.path), "sha256": self.sha256, "status": self.status}


_HASHES: dict[tuple[str, int, int], str] = {}


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, remembered per (path, size, mtime) within the process."""
    path = Path(path).resolve()
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _HASHES:
        _HASHES[key] = file_digest(path, "sha256")
    return _HASHES[key]


def weights_source(space: str) -> WeightsSource:
    """The registry's weights entry of ``space``; ValueError for a space without weights."""
    source = get_space(space).weights
    if source is None:
        raise ValueError(f"feature space {space!r} has no weights; spaces with weights: "
                         f"{sorted(spaces_with_weights())}")
    return source


def weights_status(space: str, sha256: str) -> str:
    """'official', 'reconstruction' or 'unverified': the status of a file with this sha256 (hex) for ``space``."""
    return weights_source(space).status(sha256)


def inspect_weights(space: str, path: str | Path) -> WeightsInfo:
    path = Path(path)
    digest = sha256_file(path)
    return WeightsInfo(space, path, digest, weights_status(space, digest))


def _torch_hub_checkpoints() -> Path:
    import torch.hub

    return Path(torch.hub.get_dir()) / "checkpoints"


def candidate_paths(space: str) -> list[Path]:
    """Where weights are looked for, in order, when no path is given: $<the space's ``WeightsSource.env_var``>,
    ./resources/inception/, then torch.hub's cache ($TORCH_HOME/hub/checkpoints/, where an earlier download
    would be); in each folder the space's ``file_names``."""
    source = weights_source(space)
    found = [Path(os.environ[source.env_var])] if os.environ.get(source.env_var) else []
    return found + [folder / name for folder in (DEFAULT_DIR, _torch_hub_checkpoints()) for name in source.file_names]


def missing_weights_message(space: str, tried: list[Path]) -> str:
    """One line: what to set (the variable, with the file it names), the alternatives, where the file is."""
    source, looked, name = weights_source(space), ", ".join(str(p) for p in tried), weights_source(space).file_names[0]
    return (f"no {space} weights found (looked at: {looked}); set {source.env_var}=<path to the {space} weights "
            f"file, {name}>, or score in a space without weights (--features pixels). Put {name} at "
            f"{DEFAULT_DIR / name} (relative to the working directory), or give its path with --weights or "
            f"${source.env_var}. The file is at {source.url}; users online may instead pass --download-weights "
            "(score(..., allow_download=True)) to fetch it into torch.hub's cache.")


def resolve_weights(space: str, weights: str | Path | None = None, allow_download: bool = False) -> WeightsInfo:
    """The weights file to use for ``space``: ``weights`` if given, else the first of ``candidate_paths``.

    Raises FileNotFoundError naming the expected file and places when none exists (and no download is allowed)."""
    weights_source(space)  # a space without weights is refused before any file is looked at
    if weights is not None:
        path = Path(weights)
        if not path.is_file():
            raise FileNotFoundError(f"{space} weights file {path} does not exist")
        return inspect_weights(space, path)
    tried = candidate_paths(space)
    for path in tried:
        if path.is_file():
            return inspect_weights(space, path)
    if allow_download:
        return inspect_weights(space, download_weights(space))
    raise FileNotFoundError(missing_weights_message(space, tried))


def download_weights(space: str) -> Path:
    """Fetch the official file into torch.hub's cache (hash prefix checked); only on explicit request."""
    import torch.hub

    source = weights_source(space)
    target = _torch_hub_checkpoints() / source.file_names[0]
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        torch.hub.download_url_to_file(source.url, str(target), hash_prefix=target.stem.rsplit("-", 1)[1])
    return target


_HUB_LOCK = threading.Lock()


@contextmanager
def pytorch_fid_hub(weights: str | Path) -> Iterator[Path]:
    """Make pytorch-fid load ``weights``: a temporary TORCH_HOME whose hub/checkpoints/ holds a link named
    pt_inception-2015-12-05-6726825d.pth (the one file name pytorch-fid asks torch.hub for).

    Restores TORCH_HOME and torch.hub's directory afterwards. Yields the temporary hub directory."""
    import torch.hub

    weights = Path(weights).resolve()
    with _HUB_LOCK, tempfile.TemporaryDirectory(prefix="hmogbench-torch-home-") as home:
        hub = Path(home) / "hub"
        (hub / "checkpoints").mkdir(parents=True)
        link = hub / "checkpoints" / FID_WEIGHTS_NAME
        try:
            link.symlink_to(weights)
        except OSError:  # no symlinks (some Windows set-ups): a copy
            shutil.copyfile(weights, link)
        old_env, old_set_dir = os.environ.get("TORCH_HOME"), torch.hub._hub_dir
        os.environ["TORCH_HOME"] = home
        if old_set_dir is not None:  # an earlier torch.hub.set_dir() would take precedence over TORCH_HOME
            torch.hub.set_dir(str(hub))
        try:
            yield hub
        finally:
            if old_env is None:
                os.environ.pop("TORCH_HOME", None)
            else:
                os.environ["TORCH_HOME"] = old_env
            torch.hub._hub_dir = old_set_dir
