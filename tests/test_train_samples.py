"""samples.png at every checkpoint (and optional TensorBoard) without changing training at all."""

import dataclasses

import numpy as np
import pytest
import torch
from PIL import Image

from hmogbench.training import progress_images
from hmogbench.cli import main
from hmogbench.training.config import TrainConfig
from hmogbench.training.progress_images import SAMPLES, TENSORBOARD_MISSING, samples_grid
from hmogbench.training.sampling import load_generator
from hmogbench.training import (GENERATOR, LOSSES, build_models, loop_settings, seed_dir, train_from_config, train_gan,
                                train_seeds)
from training_states import assert_same_training

SEEDS = [3, 4]


def _cfg(**kw):
    base = dict(model="FC", steps=4, batch_size=8, checkpoint_every=2, log_every=1)
    return TrainConfig(**{**base, **kw})


def _png(path):
    return np.asarray(Image.open(path))


def _assert_grid(image, size=32):
    cell = size + 2  # mosaic's 2-pixel white padding
    assert image.shape == (8 * cell - 2, 8 * cell - 2) and image.dtype == np.uint8  # grayscale: PNG mode L
    assert (image[size:size + 2, :] == 255).all() and (image[:, size:size + 2] == 255).all()
    cells = [image[r * cell:r * cell + size, k * cell:k * cell + size] for r in range(8) for k in range(8)]
    assert all(c.std() > 0 for c in cells), "a blank sample"
    assert len({c.tobytes() for c in cells}) == 64, "64 z, 64 different samples"


def _grid_of(run_dir):
    G, cfg = load_generator(run_dir)
    return samples_grid(G, cfg.seed, torch.device("cpu"))[..., 0]


def test_cli_run_writes_an_8x8_grid_at_every_checkpoint(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--set", "model=FC", "--set", "steps=4", "--set", "batch_size=8", "--set",
                 "checkpoint_every=2", "--data", "mnist-5k", "--out", str(out), "--no-progress"]) == 0
    image = _png(out / SAMPLES)
    _assert_grid(image)
    assert np.array_equal(image, _grid_of(out))  # the final G's samples of the run's fixed z
    assert not list(out.glob(".*.tmp"))  # written atomically


def test_samples_follow_training_and_z_is_fixed(tiny_images, tmp_path):
    seen = {}
    train_from_config(_cfg(model="HME-2"), tiny_images, tmp_path / "a", progress=False,
                      on_step=lambda step: seen.setdefault(step, (tmp_path / "a" / SAMPLES).read_bytes()
                                                           if (tmp_path / "a" / SAMPLES).exists() else None))
    assert seen[1] is None and seen[2] is not None and seen[3] == seen[2] and seen[4] != seen[2]
    _assert_grid(_png(tmp_path / "a" / SAMPLES))
    assert np.array_equal(_png(tmp_path / "a" / SAMPLES), _grid_of(tmp_path / "a"))


@pytest.mark.parametrize("model", ["FC", "HME-2", "MEGAN-4"])  # MEGAN: Gumbel noise inside G, BatchNorm statistics
def test_training_is_bit_identical_with_samples_on_and_off(model, tiny_images, tmp_path):
    train_from_config(_cfg(model=model), tiny_images, tmp_path / "on", progress=False)
    train_from_config(_cfg(model=model, samples_every_checkpoint=False), tiny_images, tmp_path / "off", progress=False)
    assert (tmp_path / "on" / SAMPLES).exists() and not (tmp_path / "off" / SAMPLES).exists()
    assert_same_training(tmp_path / "on", tmp_path / "off")
    if model == "MEGAN-4":
        _assert_grid(_png(tmp_path / "on" / SAMPLES))
        assert np.array_equal(_png(tmp_path / "on" / SAMPLES), _grid_of(tmp_path / "on"))  # Gumbel: seeded, repeatable


@pytest.mark.parametrize("mode", ["loop", "vmap"])
def test_batched_seeds_each_write_their_own_grid(mode, tiny_images, tmp_path):
    cfg = _cfg(model="HME-2")
    train_seeds(cfg, SEEDS, tiny_images, tmp_path / "on", progress=False, batch_mode=mode)
    grids = [_png(seed_dir(tmp_path / "on", s) / SAMPLES) for s in SEEDS]
    for seed, grid in zip(SEEDS, grids):
        _assert_grid(grid)
        assert np.array_equal(grid, _grid_of(seed_dir(tmp_path / "on", seed))), f"seed {seed}: not its own G's grid"
    assert not np.array_equal(*grids)
    if mode == "loop":  # bit for bit: samples on or off
        off = dataclasses.replace(cfg, samples_every_checkpoint=False)
        train_seeds(off, SEEDS, tiny_images, tmp_path / "off", progress=False, batch_mode=mode)
        for seed in SEEDS:
            assert not (seed_dir(tmp_path / "off", seed) / SAMPLES).exists()
            assert_same_training(seed_dir(tmp_path / "on", seed), seed_dir(tmp_path / "off", seed))


def test_runs_without_an_image_config_write_no_samples(tiny_images, tmp_path):
    G, D, objective = build_models(_cfg())
    train_gan(G, D, objective, tiny_images, tmp_path / "toyish", loop_settings(_cfg()), {"toy": True}, progress=False)
    assert (tmp_path / "toyish" / GENERATOR).exists() and not (tmp_path / "toyish" / SAMPLES).exists()


def test_tensorboard_flag_without_the_package_is_one_clear_error(tmp_path, capsys, monkeypatch):
    def missing():
        raise RuntimeError(TENSORBOARD_MISSING)

    monkeypatch.setattr(progress_images, "summary_writer_class", missing)
    rc = main(["train", "--set", "steps=2", "--set", "batch_size=8", "--out", str(tmp_path / "run"),
               "--tensorboard", str(tmp_path / "tb"), "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and err.strip() == f"hmogbench train: error: {TENSORBOARD_MISSING}"
    assert not (tmp_path / "run").exists()  # refused before training


def test_tensorboard_absent_here_raises_the_message():
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        with pytest.raises(RuntimeError, match="pip install tensorboard"):
            progress_images.summary_writer_class()
    else:
        assert progress_images.summary_writer_class().__name__ == "SummaryWriter"


class FakeWriter:
    made = []

    def __init__(self, log_dir, purge_step=None):
        self.log_dir, self.purge_step, self.scalars, self.images, self.closed = log_dir, purge_step, [], [], False
        FakeWriter.made.append(self)

    def add_scalar(self, name, value, step):
        self.scalars.append((name, value, step))

    def add_image(self, name, image, step, dataformats):
        self.images.append((name, image.copy(), step, dataformats))

    def flush(self):
        pass

    def close(self):
        self.closed = True


def test_tensorboard_logs_losses_and_grids_per_run(tiny_images, tmp_path, monkeypatch):
    FakeWriter.made = []
    monkeypatch.setattr(progress_images, "summary_writer_class", lambda: FakeWriter)
    cfg = _cfg(model="HME-2", samples_every_checkpoint=False)  # TensorBoard's grid does not need the file
    with progress_images.tensorboard(tmp_path / "tb"):
        train_seeds(cfg, SEEDS, tiny_images, tmp_path / "runs", progress=False, batch_mode="loop")
    assert progress_images._tensorboard_dir is None
    assert [w.log_dir for w in FakeWriter.made] == [str(tmp_path / "tb" / f"seed{s}") for s in SEEDS]
    for seed, writer in zip(SEEDS, FakeWriter.made):
        run = seed_dir(tmp_path / "runs", seed)
        assert writer.closed and writer.purge_step == 0 and not (run / SAMPLES).exists()
        lines = (run / LOSSES).read_text().splitlines()
        header = lines[0].split(",")[1:]
        expected = [(name, float(v), int(row.split(",")[0]))
                    for row in lines[1:] for name, v in zip(header, row.split(",")[1:])]
        assert [(n, float(f"{v:.6g}"), s) for n, v, s in writer.scalars] == expected
        assert [(n, s, f) for n, _, s, f in writer.images] == [("samples", 2, "HWC"), ("samples", 4, "HWC")]
        assert np.array_equal(writer.images[-1][1][..., 0], _grid_of(run))
