"""Image sets to score: a folder of image files, a uint8 .npy/.npz array, or an array in memory.

All become a uint8 tensor (N, C, H, W), C = 1 (gray) or 3 (RGB), as ``hmogbench.data.images`` arrays are.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm.auto import tqdm

from ..data.images import to_nchw, load_image_array

IMAGE_EXTENSIONS = {"bmp", "jpg", "jpeg", "pgm", "png", "ppm", "tif", "tiff", "webp"}  # pytorch-fid's
GRAY_MODES = {"1", "L", "LA"}
REJECTED_MODES = {"I", "I;16", "I;16B", "I;16L", "I;16N", "F"}  # not 8-bit


def image_files(folder: str | Path) -> list[Path]:
    """The image files directly in ``folder`` (not in subfolders), sorted by name."""
    folder = Path(folder)
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower().lstrip(".") in IMAGE_EXTENSIONS)
    if not files:
        raise ValueError(f"{folder}: no image files ({', '.join(sorted(IMAGE_EXTENSIONS))}) directly in this "
                         "folder (subfolders are not searched)")
    return files


def _decode(path: Path) -> np.ndarray:
    """One file -> uint8 (H, W) for gray images, (H, W, 3) otherwise (PIL's RGB conversion, alpha dropped)."""
    try:
        with Image.open(path) as image:
            if image.mode in REJECTED_MODES:
                raise ValueError(f"{path}: expected 8-bit images, got PIL mode {image.mode!r}")
            return np.asarray(image.convert("L" if image.mode in GRAY_MODES else "RGB"))
    except (OSError, SyntaxError) as exc:  # PIL's errors for unreadable files
        raise ValueError(f"{path}: not a readable image: {exc}") from exc


def load_image_folder(folder: str | Path, progress: bool = False) -> torch.Tensor:
    """Every image directly in ``folder`` -> uint8 (N, C, H, W); all must share one size.

    Gray files stay one channel unless the folder also holds colour ones; then all become RGB (gray
    repeated), as pytorch-fid's ``Image.convert('RGB')`` does."""
    files = image_files(folder)
    arrays = [_decode(p) for p in tqdm(files, disable=not progress, desc=f"reading {Path(folder).name}",
                                       unit="img")]
    size = arrays[0].shape[:2]
    for path, array in zip(files, arrays):
        if array.shape[:2] != size:
            raise ValueError(f"{path}: size {array.shape[1]}x{array.shape[0]} (WxH) differs from "
                             f"{files[0].name}'s {size[1]}x{size[0]}; all images of a set must share one size")
    if any(a.ndim == 3 for a in arrays):
        arrays = [np.repeat(a[:, :, None], 3, axis=2) if a.ndim == 2 else a for a in arrays]
    return to_nchw(np.stack(arrays), str(folder))


def load_images(source: str | Path | np.ndarray | torch.Tensor, progress: bool = False) -> torch.Tensor:
    """An image set -> tensor (N, C, H, W).

    ``source``: a folder of PNG/JPEG/... files; a .npy/.npz file of uint8 N x H x W [x C]; a numpy array
    in that same layout; or a tensor already (N, C, H, W), uint8 in [0, 255] or float in [0, 1]."""
    if isinstance(source, torch.Tensor):
        if source.ndim != 4 or source.shape[1] not in (1, 3):
            raise ValueError(f"an image tensor must be (N, C, H, W) with C = 1 or 3, got {tuple(source.shape)}")
        return source
    if isinstance(source, np.ndarray):
        return to_nchw(source, "image array")
    path = Path(source)
    if path.is_dir():
        return load_image_folder(path, progress=progress)
    if not path.exists():
        raise FileNotFoundError(f"image set {path} does not exist (expected a folder of images or a .npy/.npz file)")
    return load_image_array(path)
