"""Small synthetic stand-ins for the colour sets, in the exact on-disk layout of the real raw files.

UT Zappos50K is not available on this project's machines, so tests and the demo workflow use a
fixture; CelebA and Flowers fixtures exercise the official (full-set) layouts, which are not here
either. A fixture goes through the same reading, checking, cropping and splitting code as real
data. Its ``FIXTURE.json`` (beside the images) lists every image's md5, takes the place of the
published checksums, and marks every manifest made from it as ``"fixture": true``.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ..registry.datasets import dataset_names, has_fixture
from ..runtime.provenance import write_text_atomic
from .catalog import get_spec
from .raw import FIXTURE_FILE, RawDataError, dataset_root


def _synthetic_image(rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    """A light background with a few coloured ellipses: varied, structured, cheap to encode."""
    image = Image.new("RGB", size, tuple(int(v) for v in rng.integers(150, 256, 3)))
    draw = ImageDraw.Draw(image)
    w, h = size
    for _ in range(3):
        x0, y0 = int(rng.integers(0, w // 2)), int(rng.integers(0, h // 2))
        x1, y1 = x0 + int(rng.integers(w // 4, w // 2)), y0 + int(rng.integers(h // 4, h // 2))
        draw.ellipse((x0, y0, x1, y1), fill=tuple(int(v) for v in rng.integers(0, 200, 3)))
    return image


def make_fixture(name: str, raw_dir: str | Path, count: int = 60, seed: int = 0) -> Path:
    """Write ``count`` synthetic JPEGs for ``name`` under ``<raw_dir>/<raw_subdir>/``; returns FIXTURE.json's path.

    Refuses to write where real raw files of the set already are. The layout: the set's ``RawFiles.fixture``."""
    spec = get_spec(name)
    if spec.fixture is None:
        raise ValueError(f"no fixture layout for {name!r}; expected one of {', '.join(dataset_names(has_fixture))}")
    root = dataset_root(spec, raw_dir)
    if any((root / s.path).exists() for s in spec.sources) and not (root / FIXTURE_FILE).exists():
        raise RawDataError(f"{root} already holds raw files of {spec.title}; not writing a synthetic fixture there")
    folder, size_of, path_of = spec.fixture.folder, spec.fixture.size, spec.fixture.path
    rng = np.random.default_rng(seed)
    sums = {}
    for i in range(count):
        buffer = io.BytesIO()
        _synthetic_image(rng, size_of(i)).save(buffer, format="JPEG", quality=90)
        path = root / folder / path_of(i)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(buffer.getvalue())
        sums[path_of(i)] = hashlib.md5(buffer.getvalue()).hexdigest()
    marker = root / FIXTURE_FILE
    write_text_atomic(marker, json.dumps({
        "fixture": True, "dataset": name, "source": folder, "count": count, "seed": seed,
        "note": f"synthetic stand-in for {spec.title} made by hmogbench.data.fixtures (not real data)",
        "md5": sums}, indent=1) + "\n")
    return marker
