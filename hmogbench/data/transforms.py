"""Pixel processing of thesis 5.1, as the authors' torchvision pipeline did it on PIL images.

``CenterCrop(crop)`` then ``Resize(size)`` with PIL's bilinear filter (antialiased when shrinking);
the result stays uint8: the authors' ``(ToTensor(x) * 255).type(uint8)`` round trip is exact for
all 256 values, so no rounding step is skipped.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def center_crop_box(width: int, height: int, crop: int) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of torchvision's ``CenterCrop(crop)`` (offsets rounded half to even)."""
    if crop > width or crop > height:
        raise ValueError(f"crop {crop} is larger than the {width}x{height} image")
    left, top = int(round((width - crop) / 2.0)), int(round((height - crop) / 2.0))
    return left, top, left + crop, top + crop


def crop_resize(image: Image.Image, size: int, crop: int | None = None, mode: str = "RGB") -> np.ndarray:
    """PIL image -> uint8 (size, size, C): centre crop of side ``crop`` (None: the short side), bilinear resize."""
    image = image.convert(mode)
    side = min(image.size) if crop is None else crop
    image = image.crop(center_crop_box(*image.size, side))
    array = np.asarray(image.resize((size, size), Image.BILINEAR), dtype=np.uint8)
    return array[:, :, None] if array.ndim == 2 else array


def resize(image: Image.Image, size: int, mode: str = "L") -> np.ndarray:
    """PIL image -> uint8 (size, size, C), the whole image resized (MNIST 28 -> 32)."""
    array = np.asarray(image.convert(mode).resize((size, size), Image.BILINEAR), dtype=np.uint8)
    return array[:, :, None] if array.ndim == 2 else array


def decode(data: bytes, name: str) -> Image.Image:
    """Encoded image bytes -> PIL image (fully loaded), naming the file when it cannot be decoded."""
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception as exc:  # PIL raises several types for broken files
        raise ValueError(f"{name}: not a readable image ({exc})") from None
    return image
