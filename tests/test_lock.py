"""The locked environment: pyproject.toml, requirements.in, requirements.lock and environment.yml agree,
docs/development.md gives the lock's own regeneration command, and provenance records the lock's hash."""

import hashlib
import re
import shlex
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

from hmogbench.runtime.lock import environment_yml, lock_record, mismatches, normalise, read_pins
from hmogbench.runtime.provenance import provenance

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"


def disagreements(pyproject: Path, requirements_in: Path, lock: Path) -> list[str]:
    """Every direct requirement (pyproject's dependencies and its `test` extra, requirements.in's lines) that
    the lock does not pin, or pins at a version outside the requirement's range."""
    project = tomllib.loads(pyproject.read_text())["project"]
    lines = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    lines += [l.split("#")[0].strip() for l in requirements_in.read_text().splitlines()]
    pins, problems = read_pins(lock), []
    for line in filter(None, lines):
        req = Requirement(line)
        pinned = pins.get(normalise(req.name))
        if pinned is None:
            problems.append(f"{req.name}: not in {lock.name}")
        elif not req.specifier.contains(pinned, prereleases=True):
            problems.append(f"{req.name}: {lock.name} pins {pinned}, outside {req.specifier}")
    return problems


def test_pyproject_requirements_in_and_lock_agree():
    assert disagreements(ROOT / "pyproject.toml", ROOT / "requirements.in", LOCK) == []


def test_a_disagreement_is_found(tmp_path):
    """Planted: a range the lock's numpy is outside of, a dependency the lock lacks, a changed torch pin."""
    pyproject = (ROOT / "pyproject.toml").read_text().replace('"numpy>=1.24"', '"numpy>=9"')
    pyproject = pyproject.replace('"tabulate>=0.9",', '"tabulate>=0.9", "einops>=0.7",')
    (tmp_path / "pyproject.toml").write_text(pyproject)
    (tmp_path / "requirements.in").write_text((ROOT / "requirements.in").read_text().replace("torch==2.14.1",
                                                                                             "torch==2.15.0"))
    problems = disagreements(tmp_path / "pyproject.toml", tmp_path / "requirements.in", LOCK)
    assert [p.split(":")[0] for p in problems] == ["numpy", "einops", "torch"]


def test_lock_pins_torch_and_torchvision_with_hashes():
    pins = read_pins(LOCK)
    assert pins["torch"] == "2.14.1" and pins["torchvision"] == "0.29.1"
    text = LOCK.read_text()
    for name in ("torch", "torchvision", "numpy", "snakemake"):
        block = re.search(rf"^{name}==\S+ \\\n((?:\s+--hash=sha256:[0-9a-f]{{64}}.*\n)+)", text, re.M)
        assert block, f"{name} has no sha256 hashes in the lock"


def test_docs_give_the_locks_own_regeneration_command():
    header = LOCK.read_text().splitlines()[1].lstrip("#").strip()
    assert header.startswith("uv pip compile") and "--generate-hashes" in header and "-o requirements.lock" in header
    assert header in (ROOT / "docs" / "development.md").read_text()
    readme = (ROOT / "README.md").read_text()
    # and the README's two set-up commands install from the lock
    for marker in ("<!-- main-command -->", "<!-- test-command -->"):
        command = readme.split(marker)[1].split("```")[1].strip()
        assert shlex.split(command)[:4] == ["pip", "install", "-r", "requirements.lock"], command


def test_environment_yml_is_the_lock():
    assert (ROOT / "environment.yml").read_text() == environment_yml(LOCK)


def test_lock_record_hashes_the_file_and_lists_what_differs(tmp_path, monkeypatch):
    record = lock_record()
    assert record["sha256"] == hashlib.sha256(LOCK.read_bytes()).hexdigest()
    assert record["pins"] == len(read_pins(LOCK)) > 50
    planted = {"torch": "0.1.0", "numpy": read_pins(LOCK)["numpy"], "surely-not-installed-xyz": "1.0"}
    assert set(mismatches(planted)) == {"torch", "surely-not-installed-xyz"}
    assert mismatches(planted)["surely-not-installed-xyz"] == {"locked": "1.0", "installed": None}


def test_provenance_carries_the_lock_hash_versions_and_numerics():
    record = provenance({"x": 1}, "auto")
    assert record["lock"]["sha256"] == hashlib.sha256(LOCK.read_bytes()).hexdigest()
    assert record["lock"]["differs"] is not None
    assert {"torch", "torchvision", "scipy", "pytorch-fid", "numpy"} <= set(record["versions"])
    assert record["numerics"]["tf32_matmul"] in (True, False) and "tf32_in_effect" in record["numerics"]


def test_the_documented_environment_command_writes_it(tmp_path):
    """`python -m hmogbench.runtime.lock environment.yml` (environment.yml's header), into a scratch path."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "hmogbench.runtime.lock", str(tmp_path / "environment.yml")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "environment.yml").read_text() == (ROOT / "environment.yml").read_text()
    assert "python -m hmogbench.runtime.lock environment.yml" in (ROOT / "environment.yml").read_text()
