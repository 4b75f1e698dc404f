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
