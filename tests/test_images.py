"""Training images: the embedded MNIST sample and user arrays, with clear errors."""

import numpy as np
import pytest
import torch

from hmogbench.data.images import embedded_mnist, load_image_array, load_training_images


def test_embedded_mnist_is_a_fixed_disjoint_split():
    train, test = embedded_mnist("train"), embedded_mnist("test")
    assert train.shape == (4000, 1, 32, 32) and test.shape == (1000, 1, 32, 32)
    assert train.dtype == torch.uint8 and train.max() > 200 and train.min() == 0
    assert torch.equal(load_training_images("mnist-5k"), train)
    flat_train = {bytes(x.numpy()) for x in train}
    assert not any(bytes(x.numpy()) in flat_train for x in test)


def test_arrays_load_as_nchw_and_bad_files_are_named(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (5, 64, 64, 3), dtype=np.uint8)
    np.save(tmp_path / "rgb.npy", rgb)
    loaded = load_image_array(tmp_path / "rgb.npy")
    assert loaded.shape == (5, 3, 64, 64) and torch.equal(loaded[2, 1], torch.from_numpy(rgb[2, :, :, 1]))
    np.save(tmp_path / "float.npy", rgb.astype(np.float32))
    with pytest.raises(ValueError, match=r"float.npy: expected uint8 pixels"):
        load_image_array(tmp_path / "float.npy")
    np.savez(tmp_path / "two.npz", a=rgb, b=rgb)
    with pytest.raises(ValueError, match=r"two.npz: holds arrays \['a', 'b'\]"):
        load_image_array(tmp_path / "two.npz")
    with pytest.raises(FileNotFoundError, match="missing.npy"):
        load_image_array(tmp_path / "missing.npy")
