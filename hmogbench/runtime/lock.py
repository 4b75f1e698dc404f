"""The locked environment: ``requirements.lock`` (exact versions with hashes, made by ``uv pip compile``
from ``pyproject.toml`` and ``requirements.in``; the command is in its header), its sha256, and which
installed distributions differ from it. Every provenance record carries ``lock_record()``."""

from __future__ import annotations

import hashlib
import os
import re
from functools import lru_cache
from importlib import metadata
from pathlib import Path

LOCK_ENV_VAR = "HMOGBENCH_LOCK"
LOCK_NAME = "requirements.lock"
SOURCE_LOCK = Path(__file__).resolve().parents[2] / LOCK_NAME  # beside the source tree this package runs from
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def normalise(name: str) -> str:
    """A distribution name in PEP 503 form: 'Scikit_Learn' -> 'scikit-learn'."""
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_path() -> Path | None:
    """$HMOGBENCH_LOCK, else the lock beside the source tree this package runs from; None if neither exists."""
    if os.environ.get(LOCK_ENV_VAR):
        return Path(os.environ[LOCK_ENV_VAR])
    return SOURCE_LOCK if SOURCE_LOCK.exists() else None


def parse_pins(text: str) -> dict[str, str]:
    """{normalised name: version} of every ``name==version`` line of a lock file's text."""
    return {normalise(m.group(1)): m.group(2) for line in text.splitlines() if (m := _PIN.match(line))}


def read_pins(path: str | Path) -> dict[str, str]:
    """``parse_pins`` of the lock file at ``path``."""
    return parse_pins(Path(path).read_text(encoding="utf-8"))


def installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def mismatches(pins: dict[str, str]) -> dict[str, dict[str, str | None]]:
    """Pinned distributions whose installed version differs: {name: {locked, installed}} (None: absent)."""
    out = {}
    for name, locked in pins.items():
        installed = installed_version(name)
        if installed is None or installed.split("+")[0] != locked.split("+")[0]:
            out[name] = {"locked": locked, "installed": installed}
    return out


@lru_cache(maxsize=1)
def lock_record() -> dict:
    """{file, sha256, pins, differs}: the lock this environment claims and how far it is from it.

    ``differs`` maps each pinned package whose installed version is not the pinned one to both versions
    ({} = the environment is exactly the lock). ``file`` None: no lock found (e.g. a wheel install)."""
    path = lock_path()
    if path is None or not path.exists():
        return {"file": None, "sha256": None, "pins": 0, "differs": None}
    data = path.read_bytes()
    pins = parse_pins(data.decode("utf-8"))
    return {"file": str(path), "sha256": hashlib.sha256(data).hexdigest(), "pins": len(pins),
            "differs": mismatches(pins)}


def environment_yml(lock: str | Path) -> str:
    """The conda environment file of the lock: Python 3.11 and pip with every pin of ``lock`` (no hashes, so
    that the same pip call can install hmogbench itself, editable) and the project."""
    pins = read_pins(lock)
    lines = ["# Written from requirements.lock by `python -m hmogbench.runtime.lock environment.yml`; do not edit by hand",
             "# (tests/test_lock.py fails while the two disagree).",
             "#   conda env create -f environment.yml && conda activate hmogbench",
             "name: hmogbench", "channels:", "  - conda-forge", "dependencies:", "  - python=3.11", "  - pip",
             "  - pip:"]
    lines += [f"      - {name}=={version}" for name, version in sorted(pins.items())]
    lines.append("      - -e .")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # python -m hmogbench.runtime.lock environment.yml
    import sys

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "environment.yml")
    partial = target.with_name(target.name + ".tmp")  # nothing half-written (provenance imports this module)
    partial.write_text(environment_yml(SOURCE_LOCK))
    os.replace(partial, target)
    print(f"{target}: written from {LOCK_NAME}")
