"""Finding and checking raw files: which accepted source is present, md5 checks, reading its images.

Every failure is a :class:`RawDataError` that names the file, what was expected (checksum, count),
where the file belongs and where it can be obtained. Checks run before (or, for per-image md5s,
while) anything is decoded, and preparation writes nothing until they have passed.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..runtime.provenance import file_digest
from .catalog import DatasetSpec, Source

FIXTURE_FILE = "FIXTURE.json"  # marks a synthetic stand-in in a data set's raw folder (see fixtures.py)


class RawDataError(ValueError):
    """Raw data missing, incomplete or corrupt; the message says which file and what to do."""


def packaged_checksums(name: str) -> dict[str, str]:
    """An md5 list shipped with hmogbench: relative image path -> md5."""
    text = resources.files("hmogbench.resources").joinpath("checksums", f"{name}.md5").read_text()
    return parse_md5_lines(text)


def parse_md5_lines(text: str) -> dict[str, str]:
    """``md5sum`` output ('<md5>  <path>' per line) -> {path: md5}."""
    sums = {}
    for line in text.splitlines():
        if line.strip():
            md5, name = line.split(maxsplit=1)
            sums[name.strip().lstrip("*")] = md5
    return sums


@dataclass(frozen=True)
class Located:
    """A source found on disk. ``expected_md5``: per-image md5s to check while reading (may be empty)."""

    spec: DatasetSpec
    source: Source
    root: Path  # the data set's raw folder
    expected_md5: dict[str, str]
    fixture: dict | None  # the FIXTURE.json contents when this is a synthetic stand-in

    @property
    def path(self) -> Path:
        return self.root / self.source.path


def dataset_root(spec: DatasetSpec, raw_dir: str | Path) -> Path:
    return Path(raw_dir) / spec.raw_subdir


def where_to_put(spec: DatasetSpec, raw_dir: str | Path) -> str:
    root = dataset_root(spec, raw_dir)
    return " or ".join(f"{root / s.path}{'/' if s.kind == 'folder' else ''}" for s in spec.sources
                       if s.kind != "idx") or ", ".join(str(root / f) for s in spec.sources for f in s.files)


def locate(spec: DatasetSpec, raw_dir: str | Path, source: str | None = None) -> Located:
    """The first accepted source present under ``raw_dir`` (or the one named), not yet checked."""
    root = dataset_root(spec, raw_dir)
    fixture = json.loads((root / FIXTURE_FILE).read_text()) if (root / FIXTURE_FILE).exists() else None
    names = [s.name for s in spec.sources]
    if source is not None and source not in names:
        raise RawDataError(f"{spec.name}: unknown source {source!r}; expected one of {', '.join(names)}")
    for s in spec.sources:
        if source is not None and s.name != source:
            continue
        present = (root / s.path).exists() if s.kind != "idx" else any((root / f).exists() for f in s.files)
        if present:
            if fixture is not None:
                return Located(spec, s, root, dict(fixture["md5"]), fixture)
            expected = packaged_checksums(s.checksum_list) if s.checksum_list else {}
            return Located(spec, s, root, expected, None)
    wanted = where_to_put(spec, raw_dir) if source is None else str(root / spec.sources[names.index(source)].path)
    raise RawDataError(f"{spec.name}: no raw files found. Put them at {wanted}. "
                       f"Obtain them from {spec.obtain}.")


def check_files(found: Located) -> dict[str, str]:
    """md5 of every named file (IDX files, archives) against the published value; returns {file: md5}."""
    spec, source = found.spec, found.source
    sums = {}
    for name, expected in source.files.items():
        path = found.root / name
        if not path.exists():
            raise RawDataError(f"{spec.name}: missing raw file {path} (md5 {expected}). Put it there; "
                               f"obtain it from {spec.obtain}.")
        actual = file_digest(path)
        if actual != expected:
            raise RawDataError(f"{spec.name}: {path} is corrupt or a different file: md5 {actual}, expected "
                               f"{expected}. Replace it with the original from {spec.obtain}.")
        sums[name] = actual
    return sums


class MemberReader:
    """The image files of a folder / zip / tar source: ``names`` (sorted, relative) and ``read(name)``."""

    def __init__(self, found: Located):
        self.found = found
        source, path = found.source, found.path
        self._tar: dict[str, bytes] | None = None
        self._zip: zipfile.ZipFile | None = None
        if source.kind == "folder":
            all_files = (p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())
        elif source.kind == "zip":
            self._zip = zipfile.ZipFile(path)
            all_files = (n[len(source.member_prefix):] for n in self._zip.namelist()
                         if n.startswith(source.member_prefix) and not n.endswith("/"))
        elif source.kind == "tar":
            with tarfile.open(path) as tar:  # members are read once, in archive order
                self._tar = {m.name[len(source.member_prefix):]: tar.extractfile(m).read()
                             for m in tar if m.isfile() and m.name.startswith(source.member_prefix)}
            all_files = iter(self._tar)
        else:
            raise RawDataError(f"{found.spec.name}: source {source.name!r} has no image files")
        self.names = sorted(n for n in all_files if n.lower().endswith(source.suffixes))

    def read(self, name: str) -> bytes:
        if self._tar is not None:
            return self._tar[name]
        if self._zip is not None:
            return self._zip.read(self.found.source.member_prefix + name)
        return (self.found.path / name).read_bytes()

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def check_names(self) -> None:
        """The expected images are all there (per-file list) or their number is right (count only)."""
        found, spec = self.found, self.found.spec
        if found.expected_md5:
            missing = sorted(set(found.expected_md5) - set(self.names))
            if missing:
                first = missing[0]
                raise RawDataError(
                    f"{spec.name}: {len(missing)} of {len(found.expected_md5)} images missing from {found.path}, "
                    f"first {found.path / first} (md5 {found.expected_md5[first]}). Restore them; "
                    f"obtain the set from {spec.obtain}.")
            self.names = sorted(found.expected_md5)  # stray extra files are ignored
        elif found.source.expected_count is not None and len(self.names) != found.source.expected_count:
            raise RawDataError(
                f"{spec.name}: {found.path} holds {len(self.names):,} images, expected "
                f"{found.source.expected_count:,} ({found.source.description}). Re-extract it from {spec.obtain}.")
        if not self.names:
            raise RawDataError(f"{spec.name}: no images in {found.path}")

    def check_member(self, name: str, data: bytes) -> str:
        """md5 of one image's bytes, checked against the expected list where there is one."""
        actual = hashlib.md5(data).hexdigest()
        expected = self.found.expected_md5.get(name)
        if expected is not None and actual != expected:
            raise RawDataError(f"{self.found.spec.name}: {self.found.path / name} is corrupt or a different file: "
                               f"md5 {actual}, expected {expected}. Restore it from {self.found.spec.obtain}.")
        return actual
