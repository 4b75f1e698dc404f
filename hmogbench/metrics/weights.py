"""Network weights for the Inception feature spaces: where they are, whether they are the accepted files.

A weights file is *verified* when its sha256 is in ``ACCEPTED``; any other file still runs, but results
computed with it are labelled "FD (unverified weights)". Nothing is downloaded unless asked for explicitly.
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

from ..provenance import file_digest

FID_WEIGHTS_NAME = "pt_inception-2015-12-05-6726825d.pth"  # the only name pytorch-fid loads
FID_WEIGHTS_URL = "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + FID_WEIGHTS_NAME
THESIS_WEIGHTS_NAMES = ("inception_v3_google-0cc3c7bd.pth",  # torchvision >= 0.13 (IMAGENET1K_V1)
                        "inception_v3_google-1a9a5a14.pth")  # torchvision of the thesis era, same weights
THESIS_WEIGHTS_URL = "https://download.pytorch.org/models/" + THESIS_WEIGHTS_NAMES[0]

ENV_VAR = {"fid-inception": "HMOGBENCH_FID_WEIGHTS", "thesis-inception": "HMOGBENCH_THESIS_INCEPTION_WEIGHTS"}
DEFAULT_DIR = Path("resources") / "inception"  # relative to the working directory
FILE_NAMES = {"fid-inception": (FID_WEIGHTS_NAME,), "thesis-inception": THESIS_WEIGHTS_NAMES}
URLS = {"fid-inception": FID_WEIGHTS_URL, "thesis-inception": THESIS_WEIGHTS_URL}

# sha256 (full, or the 8-hex prefix torch.hub puts in the file name where no full hash is published) -> status
ACCEPTED: dict[str, dict[str, str]] = {
    "fid-inception": {
        # pytorch-fid's release file, 95,628,359 bytes (same bytes as torch-fidelity's
        # weights-inception-2015-12-05-6726825d.pth); the full hash as public projects pinning the file record it
        "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2": "official",
        # ../shared/data/inception/pt_inception-2015-12-05-RECON-fcNaN.pth: pool3 equal to the official file
        # to ~1e-6, classifier (fc) NaN; see shared/data/SOURCES.md
        "b819afcf1ffe1e4f23ada6407c24766ae79043acfba4ada367f8cf920e64aa39": "reconstruction",
    },
    "thesis-inception": {
        "1a9a5a14f40645a370184bd54f4e8e631351e71399112b43ad0294a79da290c8": "official",  # as publicly pinned
        # torchvision's current file: only the name's sha256 prefix is documented (torch.hub convention)
        "0cc3c7bd": "official",
    },
}


@dataclass(frozen=True)
class WeightsInfo:
    """A weights file and its verdict: status is 'official', 'reconstruction' or 'unverified'."""

    space: str
    path: Path
    sha256: str
    status: str

    @property
    def verified(self) -> bool:
        return self.status != "unverified"

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


def weights_status(space: str, sha256: str) -> str:
    for accepted, status in ACCEPTED[space].items():
        if sha256 == accepted or (len(accepted) == 8 and sha256.startswith(accepted)):
            return status
    return "unverified"


def inspect_weights(space: str, path: str | Path) -> WeightsInfo:
    path = Path(path)
    digest = sha256_file(path)
    return WeightsInfo(space, path, digest, weights_status(space, digest))


def _torch_hub_checkpoints() -> Path:
    import torch.hub

    return Path(torch.hub.get_dir()) / "checkpoints"


def candidate_paths(space: str) -> list[Path]:
    """Where weights are looked for, in order, when no path is given: $ENV_VAR, ./resources/inception/,
    then torch.hub's cache ($TORCH_HOME/hub/checkpoints/, where an earlier download would be)."""
    found = [Path(os.environ[ENV_VAR[space]])] if os.environ.get(ENV_VAR[space]) else []
    return found + [folder / name for folder in (DEFAULT_DIR, _torch_hub_checkpoints()) for name in FILE_NAMES[space]]


def missing_weights_message(space: str, tried: list[Path]) -> str:
    looked = ", ".join(str(p) for p in tried)
    return (f"no {space} weights found (looked at: {looked}). Put {FILE_NAMES[space][0]} at "
            f"{DEFAULT_DIR / FILE_NAMES[space][0]} (relative to the working directory), or give its path with "
            f"--weights or ${ENV_VAR[space]}. The file is at {URLS[space]}; users online may instead pass "
            "--download-weights (score(..., allow_download=True)) to fetch it into torch.hub's cache.")


def resolve_weights(space: str, weights: str | Path | None = None, allow_download: bool = False) -> WeightsInfo:
    """The weights file to use for ``space``: ``weights`` if given, else the first of ``candidate_paths``.

    Raises FileNotFoundError naming the expected file and places when none exists (and no download is allowed)."""
    if space not in ENV_VAR:
        raise ValueError(f"feature space {space!r} has no weights; spaces with weights: {sorted(ENV_VAR)}")
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

    target = _torch_hub_checkpoints() / FILE_NAMES[space][0]
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        torch.hub.download_url_to_file(URLS[space], str(target), hash_prefix=target.stem.rsplit("-", 1)[1])
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
