"""Opt-in downloads of the raw files for users who are online (``hmogbench data download NAME``).

Nothing in hmogbench downloads by default. UT Zappos50K has no direct link (a licence page comes
first): download ``ut-zap50k-images-square.zip`` by hand into ``<raw_dir>/utzap50k/``."""

from __future__ import annotations

from pathlib import Path

from .catalog import get_spec
from .raw import RawDataError, dataset_root


def download(name: str, raw_dir: str | Path) -> list[Path]:
    """Fetch ``name``'s raw files (md5-checked by torchvision's helpers) into ``<raw_dir>/<raw_subdir>/``
    from the links its catalog entry lists (``RawFiles.downloads``)."""
    from torchvision.datasets.utils import download_file_from_google_drive, download_url

    spec = get_spec(name)
    if not spec.downloads:
        raise RawDataError(f"{spec.title} cannot be downloaded automatically. Obtain it from {spec.obtain}.")
    root = dataset_root(spec, raw_dir)
    root.mkdir(parents=True, exist_ok=True)
    md5s = {f: m for s in spec.sources for f, m in s.files.items()}
    paths = []
    for filename, url in spec.downloads.items():
        if url.startswith("gdrive:"):
            download_file_from_google_drive(url.removeprefix("gdrive:"), str(root), filename, md5s[filename])
        else:
            download_url(url, str(root), filename, md5s[filename])
        paths.append(root / filename)
    return paths
