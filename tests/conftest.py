import pytest
import torch


@pytest.fixture
def tiny_images():
    """48 random 1x32x32 uint8 images: enough for a few batches of 8."""
    g = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (48, 1, 32, 32), generator=g, dtype=torch.uint8)


@pytest.fixture(autouse=True)
def _threads():
    # fixed thread count: CPU float reductions are then reproducible within the test session
    torch.set_num_threads(1)
    yield


def _shared_dir(name: str, env: str):
    import os
    from pathlib import Path

    return Path(os.environ.get(env, Path(__file__).resolve().parents[2] / "shared" / name))


def _require_shared(root, marker: str, env: str):
    """``root`` if ``root/marker`` exists; otherwise skip, saying why -- except under ``.ci/run``, which
    sets HMOGBENCH_REQUIRE_SHARED_DATA=1 so that CI fails instead of silently skipping."""
    import os

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
