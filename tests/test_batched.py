"""Batched seeds: the same experiment as each seed trained alone, resumable, and the fallbacks."""

import csv
import dataclasses
import json

import numpy as np
import pytest
import torch

from hmogbench.batched import StackedPair, batching_unsupported, train_group
from hmogbench.config import TrainConfig
from hmogbench.objectives import WGANGP
from hmogbench.train import (CHECKPOINT, GENERATOR, LOSSES, RUN_INFO, NonFiniteLossError, build_models, seed_dir,
                             train_from_config, train_seeds)

SEEDS = [2019, 2020]


def _cfg(model="HME-L-2", **kw):
    return TrainConfig(**{**dict(model=model, steps=2, batch_size=8, checkpoint_every=10, log_every=1), **kw})


def _load(path):
    return torch.load(path, weights_only=False)


def _alone(cfg, data, root):
    for seed in SEEDS:
        train_from_config(dataclasses.replace(cfg, seed=seed), data, seed_dir(root, seed), progress=False)


def _losses(run_dir):
    rows = list(csv.reader((run_dir / LOSSES).open()))
    return rows[0], np.array(rows[1:], dtype=float)


def _assert_states_equal(a, b, what):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), f"{what}: {key} differs"


def _assert_same_files(root_a, root_b, seeds=SEEDS):
    """Bit-identical losses.csv, final G, checkpoint (D, both optimisers, data order, RNG) per seed."""
    for seed in seeds:
        a, b = seed_dir(root_a, seed), seed_dir(root_b, seed)
        assert (a / LOSSES).read_text() == (b / LOSSES).read_text(), f"seed {seed}: losses differ"
        _assert_states_equal(_load(a / GENERATOR)["generator"], _load(b / GENERATOR)["generator"], f"seed {seed} G")
        ca, cb = _load(a / CHECKPOINT), _load(b / CHECKPOINT)
        assert ca["step"] == cb["step"] and ca["config"] == cb["config"]
        _assert_states_equal(ca["discriminator"], cb["discriminator"], f"seed {seed} D")
        for opt in ("opt_g", "opt_d"):
            assert ca[opt]["param_groups"] == cb[opt]["param_groups"]
            for i, entry in ca[opt]["state"].items():
                _assert_states_equal(entry, cb[opt]["state"][i], f"seed {seed} {opt}[{i}]")
        assert torch.equal(ca["rng"]["torch"], cb["rng"]["torch"])
        assert torch.equal(ca["sampler"]["order"], cb["sampler"]["order"])


def test_one_adam_over_stacked_parameters_equals_separate_adams():
    g = torch.Generator().manual_seed(0)
    runs = [torch.randn(4, 3, generator=g, requires_grad=True) for _ in range(3)]
    stacked = torch.stack([r.detach() for r in runs]).requires_grad_(True)
    settings = dict(lr=1e-2, betas=(0.5, 0.999), amsgrad=True)
    alone = [torch.optim.Adam([r], **settings) for r in runs]
    together = torch.optim.Adam([stacked], **settings)
    for _ in range(5):
        grads = torch.randn(3, 4, 3, generator=g) * torch.rand(3, 1, 1, generator=g) * 10  # a scale per run
        for r, opt, grad in zip(runs, alone, grads):
            r.grad = grad.clone()
            opt.step()
        stacked.grad = grads.clone()
        together.step()
    for i, r in enumerate(runs):
        assert torch.equal(stacked[i], r)
        for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            assert torch.equal(together.state[stacked][key][i], alone[i].state[r][key])


@pytest.mark.parametrize("model", ["FC", "ME-4", "HME-2", "HME-L-2"])  # FC, ME-k, HME-d constant, HME-L linear
def test_batched_seeds_equal_seeds_alone(model, tiny_images, tmp_path):
    cfg = _cfg(model)
    _alone(cfg, tiny_images, tmp_path / "alone")
    # loop mode: bit for bit, every file (losses, final G, D, Adam states, data order, RNG)
    train_seeds(cfg, SEEDS, tiny_images, tmp_path / "loop", progress=False, batch_mode="loop")
    _assert_same_files(tmp_path / "alone", tmp_path / "loop")
    # vmap mode (the GPU path): batched kernels round differently; equal to float tolerance
    train_seeds(cfg, SEEDS, tiny_images, tmp_path / "vmap", progress=False, batch_mode="vmap")
    for seed in SEEDS:
        a, b = seed_dir(tmp_path / "alone", seed), seed_dir(tmp_path / "vmap", seed)
        (head_a, la), (head_b, lb) = _losses(a), _losses(b)
        assert head_a == head_b and la.shape == lb.shape == (2, len(head_a))
        np.testing.assert_allclose(lb, la, rtol=1e-4, atol=1e-5)
        # Adam's first steps move a weight by about +-lr whatever its gradient's size, so a weight whose
        # gradient is ~0 up to rounding may step the other way: weights agree to 2 * lr * steps, and the
        # difference is small against the whole update (the gradients themselves: the next test)
        init = build_models(dataclasses.replace(cfg, seed=seed))[0].state_dict()
        ga, gb = _load(a / GENERATOR)["generator"], _load(b / GENERATOR)["generator"]
        for key in ga:
            assert (ga[key] - gb[key]).abs().max() <= 2 * cfg.lr * cfg.steps + 1e-6, key
            assert (ga[key] - gb[key]).norm() <= 0.1 * (ga[key] - init[key]).norm(), key
        info = json.loads((b / RUN_INFO).read_text())
        assert info["batch"] == {"batched": True, "seeds": SEEDS, "mode": "vmap", "compile": None}


def _relative_error(a, b):
    return ((a - b).norm() / b.norm()).item()


def test_vmapped_losses_give_each_seed_its_gradients(tiny_images):
    """One D loss with the gradient penalty (double backward inside vmap), then one G loss: each seed's
    gradients to float32 rounding (relative error ~1e-6)."""
    models = [build_models(_cfg(seed=s)) for s in SEEDS]
    objective = models[0][2]
    assert isinstance(objective, WGANGP)
    g = torch.Generator().manual_seed(1)
    reals = [tiny_images[:8].float() / 127.5 - 1, tiny_images[8:16].float() / 127.5 - 1]
    zs = [torch.randn(8, 100, generator=g) for _ in SEEDS]
    noise = [{"alpha": torch.rand(8, 1, 1, 1, generator=g)} for _ in SEEDS]
    pair = StackedPair([m[0] for m in models], [m[1] for m in models], mode="vmap")
    out = pair.apply(objective.d_loss, reals, zs, noise=noise)
    out["loss"].sum().backward()
    g_out = pair.apply(objective.g_loss, zs)
    g_out["loss"].sum().backward()
    for i, (G, D, _) in enumerate(models):
        alone = objective.d_loss(G, D, reals[i], zs[i], **noise[i])
        alone["loss"].backward()
        g_alone = objective.g_loss(G, D, zs[i])
        g_alone["loss"].backward()
        for k in ("loss", "gp", "wdist"):
            torch.testing.assert_close(out[k][i], alone[k], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(g_out["loss"][i], g_alone["loss"], rtol=1e-5, atol=1e-6)
        for stacked, module in ((pair.D, D), (pair.G, G)):
            for name, p in module.named_parameters():
                assert _relative_error(stacked.params[name].grad[i], p.grad) < 1e-5, name


class Killed(Exception):
    pass


def test_batched_group_resumes_after_a_kill(tiny_images, tmp_path):
    cfg = _cfg(steps=5, checkpoint_every=2)
    train_seeds(cfg, SEEDS, tiny_images, tmp_path / "full", progress=False, batch_mode="vmap")

    def kill_at_3(step):
        if step == 3:  # after the step-2 checkpoints, before the step-4 ones
            raise Killed

    with pytest.raises(Killed):
        train_seeds(cfg, SEEDS, tiny_images, tmp_path / "run", progress=False, batch_mode="vmap", on_step=kill_at_3)
    assert [_load(seed_dir(tmp_path / "run", s) / CHECKPOINT)["step"] for s in SEEDS] == [2, 2]
    infos = train_seeds(cfg, SEEDS, tiny_images, tmp_path / "run", progress=False, batch_mode="vmap")
    assert [(i["resumed_from"], i["steps_done"], i["status"]) for i in infos] == [(2, 5, "complete")] * 2
    _assert_same_files(tmp_path / "full", tmp_path / "run")


def test_seeds_at_different_steps_catch_up_then_train_together(tiny_images, tmp_path):
    """A kill between two seeds' checkpoint writes (or seeds trained apart) leaves them at different steps."""
    cfg = _cfg(steps=4, checkpoint_every=1)
    _alone(cfg, tiny_images, tmp_path / "alone")

    def kill_at_2(step):
        if step == 2:
            raise Killed

    with pytest.raises(Killed):  # seed 2020 alone to step 2; seed 2019 not started
        train_from_config(dataclasses.replace(cfg, seed=2020), tiny_images, seed_dir(tmp_path / "run", 2020),
                          progress=False, on_step=kill_at_2)
    infos = train_seeds(cfg, SEEDS, tiny_images, tmp_path / "run", progress=False, batch_mode="loop")
    assert [i["batch"]["seeds"] for i in infos] == [SEEDS, SEEDS] and [i["resumed_from"] for i in infos] == [2, 2]
    _assert_same_files(tmp_path / "alone", tmp_path / "run")


def test_no_batch_from_the_command_line_trains_one_by_one(tmp_path):
    from hmogbench.cli import main

    np.save(tmp_path / "data.npy", np.random.default_rng(0).integers(0, 256, (24, 32, 32), dtype=np.uint8))
    args = ["train", "--data", str(tmp_path / "data.npy"), "--no-progress", "--set", "model=FC", "--set", "steps=1",
            "--set", "d_steps=1", "--set", "batch_size=8", "--seeds", *map(str, SEEDS)]
    assert main(args + ["--out", str(tmp_path / "seq"), "--no-batch"]) == 0
    assert main(args + ["--out", str(tmp_path / "batched"), "--batch-mode", "loop"]) == 0
    for seed in SEEDS:
        seq = json.loads((seed_dir(tmp_path / "seq", seed) / RUN_INFO).read_text())
        assert seq["batch"] == {"batched": False, "reason": "batching switched off (--no-batch)"}
        assert json.loads((seed_dir(tmp_path / "batched", seed) / RUN_INFO).read_text())["batch"]["batched"]
    _assert_same_files(tmp_path / "seq", tmp_path / "batched")


def test_competitors_fall_back_to_one_by_one_with_the_reason(tiny_images, tmp_path):
    for model, why in [("MADGAN-2", "objective 'madgan' is not batchable"),
                       ("MEGAN-2", "objective 'megan' is not batchable")]:
        assert why in batching_unsupported(_cfg(model))
    assert "uses BatchNorm" in batching_unsupported(_cfg("FC", d_norm="batch"))
    assert batching_unsupported(_cfg("ME-L-4")) is None and batching_unsupported(_cfg("HME-5")) is None
    infos = train_seeds(_cfg("MGAN-2", steps=1, d_steps=1), SEEDS, tiny_images, tmp_path, progress=False)
    assert all(not i["batch"]["batched"] and "'mgan' is not batchable" in i["batch"]["reason"] for i in infos)
    with pytest.raises(ValueError, match="not batchable"):
        train_group([_cfg("MGAN-2", seed=s) for s in SEEDS], tiny_images, [tmp_path / "a", tmp_path / "b"])


def test_a_nan_in_a_batched_seed_lets_the_others_finish(tiny_images, tmp_path, monkeypatch):
    import hmogbench.batched

    def failing_group(*args, **kwargs):
        raise NonFiniteLossError("seed 2020: generator loss is nan at generator step 1")

    monkeypatch.setattr(hmogbench.batched, "train_group", failing_group)
    infos = train_seeds(_cfg(steps=1, d_steps=1), SEEDS, tiny_images, tmp_path, progress=False)
    assert [i["status"] for i in infos] == ["complete", "complete"]  # alone, neither fails here
    assert "a seed of the batched group failed (seed 2020: generator loss is nan" in infos[0]["batch"]["reason"]
