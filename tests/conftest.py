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


def _shared_data_dir():
    import os
    from pathlib import Path

    return Path(os.environ.get("HMOGBENCH_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data():
    """The real data of this project's machines (``../shared/data``, or $HMOGBENCH_SHARED_DATA).

    Tests that need it skip, saying why, where it is absent -- except under ``.ci/run``, which sets
    HMOGBENCH_REQUIRE_SHARED_DATA=1 so that CI fails instead of silently skipping them."""
    import os

    root = _shared_data_dir()
    if not (root / "SOURCES.md").exists():
        message = f"shared real data not found at {root} (set HMOGBENCH_SHARED_DATA to its folder)"
        if os.environ.get("HMOGBENCH_REQUIRE_SHARED_DATA") == "1":
            pytest.fail(message + "; HMOGBENCH_REQUIRE_SHARED_DATA=1 requires it")
        pytest.skip(message)
    return root
