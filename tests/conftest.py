"""Shared fixtures and the test tiers.

Tiers (markers, pyproject.toml): ``unit`` -- in-process, seconds each, the fast tier a developer runs
(``python -m pytest -m unit``); ``system`` -- end to end through a subprocess, Snakemake, SLURM or a browser;
``reference`` -- equality with an outside reference (pytorch-fid, torch-fidelity, the real FID Inception weights).
A test file states its tier with ``pytestmark``; a test without one is ``unit``. ``slow`` marks any test over
~20 s. The suite runs on two workers (pytest-xdist, ``-n 2`` in pyproject.toml); the expensive artefacts several
tests assert on are built once per session, whichever worker asks first (``built_once``), and system tests are
started first so that the longest ones do not finish last.
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch

TIERS = ("unit", "system", "reference")
FIRST = ("system", "reference", "unit")  # the order tests are handed out: long ones first


def pytest_collection_modifyitems(config, items):
    """Every test gets exactly one tier (``unit`` unless marked); the system tier is collected first, then the
    reference tier, then the unit tier, slow tests first within each."""
    for item in items:
        tiers = [t for t in TIERS if item.get_closest_marker(t)]
        if len(tiers) > 1:
            raise pytest.UsageError(f"{item.nodeid} is marked with several tiers: {tiers}")
        if not tiers:
            item.add_marker(pytest.mark.unit)
    items.sort(key=lambda item: (next(i for i, t in enumerate(FIRST) if item.get_closest_marker(t)),
                                 item.get_closest_marker("slow") is None))


@pytest.fixture
def tiny_images():
    """48 random 1x32x32 uint8 images: enough for a few batches of 8."""
    from training_states import tiny_images

    return tiny_images()


@pytest.fixture(autouse=True)
def _threads():
    # fixed thread count: CPU float reductions are then reproducible within the test session (two workers
    # of one thread each use both cores of a CI machine)
    torch.set_num_threads(1)
    yield


def session_root(tmp_path_factory) -> Path:
    """A folder shared by every worker of this test session (xdist gives each worker its own basetemp)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextmanager
def built_once(tmp_path_factory, name: str):
    """``with built_once(f, "x") as (folder, todo):`` -- ``folder`` is shared by the session's workers; ``todo``
    is True for the one that must build it (the others wait on a lock, then find it built). A build that
    raises leaves ``folder`` unmarked, so the next test to ask tries again and sees the same error."""
    root = session_root(tmp_path_factory) / "built-once"
    root.mkdir(exist_ok=True)
    folder, done = root / name, root / f"{name}.done"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            todo = not done.exists()
            folder.mkdir(exist_ok=True)
            yield folder, todo
            done.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _shared_dir(name: str, env: str):
    return Path(os.environ.get(env, Path(__file__).resolve().parents[2] / "shared" / name))


def _require_shared(root, marker: str, env: str):
    """``root`` if ``root/marker`` exists; otherwise skip, saying why -- except under ``.ci/run``, which
    sets HMOGBENCH_REQUIRE_SHARED_DATA=1 so that CI fails instead of silently skipping."""
    if not (root / marker).exists():
        message = f"shared files not found at {root} (set {env} to their folder)"
        if os.environ.get("HMOGBENCH_REQUIRE_SHARED_DATA") == "1":
            pytest.fail(message + "; HMOGBENCH_REQUIRE_SHARED_DATA=1 requires them")
        pytest.skip(message)
    return root


@pytest.fixture(scope="session")
def shared_data():
    """The real data of this project's machines (``../shared/data``, or $HMOGBENCH_SHARED_DATA)."""
    return _require_shared(_shared_dir("data", "HMOGBENCH_SHARED_DATA"), "SOURCES.md", "HMOGBENCH_SHARED_DATA")


@pytest.fixture(scope="session")
def shared_seeds():
    """The thesis and paper as text (``../shared/seeds``, or $HMOGBENCH_SHARED_SEEDS)."""
    return _require_shared(_shared_dir("seeds", "HMOGBENCH_SHARED_SEEDS"),
                           "thesis_hierarchical_mixtures_of_generators.txt", "HMOGBENCH_SHARED_SEEDS")


FID_WEIGHTS = "inception/pt_inception-2015-12-05-RECON-fcNaN.pth"


@pytest.fixture(scope="session")
def fid_weights(shared_data) -> Path:
    """The verified reconstruction of the FID Inception weights in the shared data."""
    return shared_data / FID_WEIGHTS


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory) -> Path:
    """The README's main command, `pictures` and report commands on the shrunk smoke grid (workflow_runs.py), run
    once a session in a copy of the workflow; -> that copy. Tests read it and change nothing in it (a test that
    must change a run copies it first)."""
    from workflow_runs import build_smoke_run

    with built_once(tmp_path_factory, "smoke-run") as (folder, todo):
        if todo:
            build_smoke_run(folder)
    return folder / "hmogbench"


@pytest.fixture(scope="session")
def fid_sets(tmp_path_factory, shared_data, fid_weights) -> dict:
    """One set of fid-inception features for the tests that compare with pytorch-fid, made once a session:
    ``folders`` -- 24 MNIST test images as gray PNGs and 24 Fashion-MNIST test images as RGB PNGs and JPEGs (the
    colour and JPEG paths); per folder ``ours`` -- `hmogbench features FOLDER` (24 x 2048 float32 .npy + sidecar)
    and ``theirs`` -- pytorch-fid's own `--save-stats` file of it; ``fid`` -- pytorch-fid's own FID of the two
    folders (its pipeline: PIL -> RGB -> ToTensor -> InceptionV3 -> sqrtm)."""
    import json

    with built_once(tmp_path_factory, "fid-sets") as (folder, todo):
        names = ("mnist", "fashion")
        sets = {"folders": {n: folder / n for n in names}, "ours": {n: folder / f"{n}.npy" for n in names},
                "theirs": {n: folder / f"{n}.npz" for n in names}}
        if todo:
            _write_fid_folders(sets["folders"], shared_data)
            fid = _pytorch_fid_statistics(sets["folders"], sets["theirs"], fid_weights)
            (folder / "fid.json").write_text(json.dumps(fid))
            from hmogbench.cli import main

            for name in names:
                assert main(["features", str(sets["folders"][name]), "--features", "fid-inception", "--weights",
                             str(fid_weights), "--out", str(sets["ours"][name]), "--no-progress"]) == 0
        return {**sets, "fid": json.loads((folder / "fid.json").read_text()), "weights": fid_weights}


def _write_fid_folders(folders: dict, shared: Path) -> None:
    from PIL import Image

    from hmogbench.data.idx import read_idx

    for (name, folder), raw in zip(folders.items(), ("mnist", "fashion_mnist")):
        folder.mkdir()
        for i, image in enumerate(read_idx(shared / raw / "t10k-images-idx3-ubyte.gz")[:24]):
            picture = Image.fromarray(image, "L")
            if name == "mnist":
                picture.save(folder / f"{i:03d}.png")
            else:
                picture.convert("RGB").save(folder / f"{i:03d}{'.jpg' if i % 3 == 2 else '.png'}", quality=95)


def _pytorch_fid_statistics(folders: dict, stats: dict, weights: Path) -> float:
    """pytorch-fid's `--save-stats` of each folder into ``stats``; -> its FID of the two."""
    import contextlib
    import io
    import warnings

    import numpy as np
    from pytorch_fid.fid_score import calculate_frechet_distance, save_fid_stats

    from hmogbench.metrics.weights import pytorch_fid_hub

    with pytorch_fid_hub(weights), contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SciPy 1.16-1.17: sqrtm's disp is deprecated
        for name, folder in folders.items():
            save_fid_stats([str(folder), str(stats[name])], 50, "cpu", 2048, num_workers=0)
        loaded = [np.load(stats[name]) for name in folders]
        return float(calculate_frechet_distance(*(f[k] for f in loaded for k in ("mu", "sigma"))))
