"""Arrays checked before use against the manifest.json of their prepared set, and a training array's record.

A prepared set's folder (``results/data/<set>/``, ``prepare.py``) holds its .npy arrays and manifest.json, which
lists each array's shape, dtype and sha256. Before an array is used:

- ``check_layout``: the .npy header is readable and the file holds exactly the bytes its shape and dtype need
  (a truncated file is named here, not by NumPy's "mmap length is greater than file size");
- ``check_manifest`` (no hashing: the workflow runs it at parse time): manifest.json parses, has its keys, and
  every array it lists is on disk with the listed shape and dtype and the bytes they need;
- ``verified_array``: where a manifest.json beside the array lists it, the file's sha256 is the listed one. The
  hash is computed once per (size, mtime_ns) of the file and kept in ``.verified.json`` beside the manifest
  (written atomically; a folder that cannot be written is not cached), so a second use costs a stat.

Every error is one line naming the file and what was expected (``DataError``). ``runtime.provenance`` (torch)
is imported only where a file is hashed or written: the parse-time check stays torch-free.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np

MANIFEST = "manifest.json"
VERIFIED = ".verified.json"  # beside the manifest: {array file: {size, mtime_ns, sha256}}
ARRAY_KEYS = ("shape", "dtype", "sha256")
EXPECTED = ("a JSON object with 'dataset' (the set's name) and 'arrays' ({file: {shape, dtype, sha256}}), as "
            "`hmogbench data prepare` writes it")
HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


class DataError(ValueError):
    """A data file that cannot be used as it is: one line naming the file."""


def read_manifest(path: str | Path) -> dict[str, Any]:
    """A prepared set's manifest.json, its keys checked: 'dataset' (str) and 'arrays' with shape, dtype, sha256."""
    path = Path(path)
    try:
        manifest = json.loads(path.read_text())
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except ValueError as exc:  # not JSON, or not UTF-8
        raise DataError(f"{path}: not valid JSON ({exc}); expected {EXPECTED}") from None
    arrays = manifest.get("arrays") if isinstance(manifest, dict) else None
    if not isinstance(arrays, dict) or not arrays or not isinstance(manifest.get("dataset"), str):
        raise DataError(f"{path}: expected {EXPECTED}")
    for name, entry in arrays.items():
        missing = [key for key in ARRAY_KEYS if not isinstance(entry, dict) or key not in entry]
        if missing:
            raise DataError(f"{path}: arrays[{name!r}] has no {', '.join(missing)} (expected shape, dtype and sha256 "
                            "for every array)")
        if not (isinstance(entry["shape"], list) and all(isinstance(n, int) and n >= 0 for n in entry["shape"])
                and isinstance(entry["dtype"], str) and re.fullmatch(r"[0-9a-f]{64}", str(entry["sha256"]))):
            raise DataError(f"{path}: arrays[{name!r}] = {entry}: expected a shape (list of sizes), a dtype name and "
                            "a sha256 (64 hex digits)")
    return manifest


def npy_layout(path: Path) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, offset of the data in bytes) from a .npy file's header (its first bytes only)."""
    try:
        with open(path, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            if version not in HEADER_READERS:
                raise ValueError(f".npy format version {version}")
            shape, _, dtype = HEADER_READERS[version](fh)
            return tuple(shape), dtype, fh.tell()
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except ValueError as exc:  # NumPy's errors for a bad magic string or header
        raise DataError(f"{path}: not a readable .npy array ({exc})") from None


def check_layout(path: str | Path, entry: dict[str, Any] | None = None,
                 manifest: str | Path = MANIFEST) -> tuple[tuple[int, ...], np.dtype]:
    """A .npy file's (shape, dtype) once its size on disk is what they need (header + data) and, with ``entry``
    (its manifest's record), they are the listed shape and dtype."""
    path = Path(path)
    shape, dtype, offset = npy_layout(path)
    if dtype.hasobject:
        raise DataError(f"{path}: an array of Python objects; expected a numeric array (uint8 images)")
    size, need = path.stat().st_size, offset + math.prod(shape) * dtype.itemsize
    if size != need:
        what = "truncated" if size < need else "longer than its array"
        raise DataError(f"{path}: {size} bytes on disk, but its {shape} {dtype} array needs {need}: the file is "
                        f"{what}; prepare or write it again")
    if entry is not None and (list(shape) != entry["shape"] or str(dtype) != entry["dtype"]):
        raise DataError(f"{path}: a {shape} {dtype} array, but {manifest} lists {tuple(entry['shape'])} "
                        f"{entry['dtype']}; prepare the set again")
    return shape, dtype


def check_manifest(folder: str | Path) -> dict[str, Any]:
    """A prepared set's manifest, checked without hashing: it parses, and every array it lists is on disk with
    the listed shape and dtype and the bytes they need. Returns the manifest."""
    path = Path(folder) / MANIFEST
    manifest = read_manifest(path)
    for name, entry in manifest["arrays"].items():
        if not (path.parent / name).is_file():
            raise DataError(f"{path}: lists {name}, which is not in {path.parent}; prepare the set again")
        check_layout(path.parent / name, entry, path)
    return manifest


def _cached(cache: Path) -> dict[str, Any]:
    try:
        values = json.loads(cache.read_text())
        return values if isinstance(values, dict) else {}
    except (OSError, ValueError):  # none yet, or unreadable: hashed again
        return {}


def _remember(cache: Path, name: str, value: dict[str, Any]) -> None:
    from ..runtime.provenance import write_json_atomic

    try:
        write_json_atomic(cache, {**_cached(cache), name: value})
    except OSError:  # a read-only folder: verified again next time
        pass


def file_sha256(path: Path, manifest: Path) -> str:
    """The sha256 of ``path``, hashed once per (size, mtime_ns) and cached in ``VERIFIED`` beside ``manifest``."""
    stat, cache = path.stat(), manifest.parent / VERIFIED
    known = _cached(cache).get(path.name)
    if isinstance(known, dict) and (known.get("size"), known.get("mtime_ns")) == (stat.st_size, stat.st_mtime_ns):
        return str(known.get("sha256"))
    from ..runtime.provenance import file_digest

    found = file_digest(path, "sha256")
    _remember(cache, path.name, {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": found})
    return found


def verified_array(path: str | Path) -> tuple[Path, dict[str, Any], str] | None:
    """(manifest path, manifest, sha256) of an array that a manifest.json beside it lists, after checking its
    layout and sha256 against it; None where no manifest lists it."""
    path = Path(path)
    manifest_path = path.parent / MANIFEST
    if not manifest_path.is_file():
        return None
    manifest = read_manifest(manifest_path)
    entry = manifest["arrays"].get(path.name)
    if entry is None:
        return None
    check_layout(path, entry, manifest_path)
    found = file_sha256(path, manifest_path)
    if found != entry["sha256"]:
        raise DataError(f"{path}: sha256 {found[:12]}…, but {manifest_path} lists {entry['sha256'][:12]}…: the "
                        f"array changed after it was prepared; prepare it again (`hmogbench data prepare "
                        f"{manifest['dataset']}`)")
    return manifest_path, manifest, found


def checked_npy(path: str | Path) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) of a .npy file after the checks before use: ``check_layout``, and ``verified_array``
    where a manifest lists it."""
    shape, dtype = check_layout(path)
    verified_array(path)
    return shape, dtype


def array_sha256(array: np.ndarray) -> str:
    """sha256 of an array as ``np.save`` writes it: equal to the sha256 of the .npy file of the same array."""
    buffer = BytesIO()
    np.save(buffer, np.ascontiguousarray(array))
    return hashlib.sha256(buffer.getbuffer()).hexdigest()


def data_record(path: str | Path | None, split: str, shape: tuple[int, ...], declared: str | None = None, *,
                embedded: tuple[str, np.ndarray] | None = None) -> dict[str, Any]:
    """run.json's "data": the set's name as prepared, the split, the array's path, shape (N x H x W x C) and
    sha256, and where the sha256 comes from (the manifest, verified; the file, hashed; the embedded array).
    ``declared``: the name the config gives (``extra.train_data``): it must be the prepared name, and it names
    an array that no manifest lists. ``embedded``: (name, array) of a set held in memory (``path`` None)."""
    if embedded is not None:
        name, sha256, source = embedded[0], array_sha256(embedded[1]), ("the embedded array as np.save writes it "
                                                                        "(a prepared copy's .npy has the same)")
    else:
        path = Path(path)
        found = verified_array(path) if path.suffix == ".npy" else None
        if found is None:
            from ..runtime.provenance import file_digest

            name, sha256, source = declared, file_digest(path, "sha256"), "the file, hashed (no manifest lists it)"
        else:
            name, sha256, source = found[1]["dataset"], found[2], f"{found[0]}, verified against the file"
    if declared is not None and declared != name:
        raise DataError(f"{path or 'the embedded set'}: prepared as {name!r}, but the config's extra.train_data "
                        f"says {declared!r}")
    return {"name": name, "split": split, "path": None if path is None else str(path), "shape": list(shape),
            "sha256": sha256, "sha256_from": source}
