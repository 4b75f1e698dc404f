"""Batched seeds: the same experiment as each seed trained alone, resumable, and the fallbacks."""

import copy
import csv
import dataclasses
import itertools
import json

import numpy as np
import pytest
import torch

from hmogbench.training.config import TrainConfig
from hmogbench.training.objectives import WGANGP
from hmogbench.training import (CHECKPOINT, GENERATOR, LOSSES, RUN_INFO, NonFiniteLossError, StackedRuns,
                                batching_unsupported, build_models, loop_settings, seed_dir, train_from_config,
                                train_gan, train_group, train_seeds)
from training_states import assert_same_training, load

SEEDS = [2019, 2020]

# How far apart two float32 evaluations of one computation may legitimately be (vmap's grouped convolutions and
# batched matmuls against a run's ordinary kernels: other summation orders, other roundings). Backward error
# analysis (Higham, Accuracy and Stability of Numerical Algorithms, ch. 3): a float32 dot product of length n is
# the exact dot product of inputs perturbed by at most gamma_n = n u / (1 - n u) relatively, u = 2^-24. The longest
# accumulation in these models is n = 4096 (D's Linear over 256 x 4 x 4 features; convolutions: at most 128 x 4 x 4),
# so every float32 evaluation, with whichever kernels, is the exact computation at weights perturbed by <= ~2^-12.
# The tests measure what such a perturbation does to the quantity compared -- nothing is assumed smooth: LeakyReLU's
# kink makes D's input gradient, hence the gradient penalty, jump when a pre-activation within rounding of 0 changes
# side (seed 2019's critic below: the penalty moves by 2.8e-4, 3e-5 relative, between two float32 kernels).
U = 2.0 ** -24
BACKWARD_ERROR = 4096 * U


def _cfg(model="HME-L-2", **kw):
    return TrainConfig(**{**dict(model=model, steps=2, batch_size=8, checkpoint_every=10, log_every=1), **kw})


def _alone(cfg, data, root):
    for seed in SEEDS:
        train_from_config(dataclasses.replace(cfg, seed=seed), data, seed_dir(root, seed), progress=False)


def _losses(run_dir):
    rows = list(csv.reader((run_dir / LOSSES).open()))
    return rows[0], np.array(rows[1:], dtype=float)


def _assert_same_files(root_a, root_b, seeds=SEEDS):
    """Bit-identical losses.csv, final G, checkpoint (D, both optimisers, data order, RNG) per seed."""
    for seed in seeds:
        assert_same_training(seed_dir(root_a, seed), seed_dir(root_b, seed))


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


def _perturb_(modules, delta, generator):
    """Scale every parameter of ``modules`` by 1 +- delta (random signs from ``generator``), in place."""
    with torch.no_grad():
        for module in modules:
            for p in module.parameters():
                p.mul_(1 + delta * (torch.randint(0, 2, p.shape, generator=generator) * 2 - 1).to(p.dtype))


def _perturbed_alone(cfg, data, run_dir, perturbation):
    """``cfg`` trained alone as ``train_from_config`` trains it, from initial weights perturbed by the float32
    backward error (``_perturb_``; the signs from their own generator, so the global RNG, hence z and the penalty's
    weights, is drawn exactly as in the run alone)."""
    G, D, objective = build_models(cfg)
    _perturb_((G, D), BACKWARD_ERROR, torch.Generator().manual_seed(perturbation))
    train_gan(G, D, objective, data, run_dir, loop_settings(cfg), cfg.to_dict(), progress=False)


def _flat(state):
    return torch.cat([v.flatten().double() for v in state.values()])


def _adam_displacement_bound(steps, betas):
    """The most Adam (amsgrad or not) can move one weight in ``steps`` steps, in units of lr, whatever the gradients:
    step t moves it by lr |m_t / (1 - b1^t)| / (sqrt(v_t / (1 - b2^t)) + eps), m_t = sum_i a_i g_i and v_t = sum_i
    c_i g_i^2 with a_i = (1 - b1) b1^(t-i), c_i = (1 - b2) b2^(t-i); Cauchy-Schwarz bounds the ratio by
    sqrt(sum_i (a_i / (1 - b1^t))^2 / (c_i / (1 - b2^t))) (1 at t = 1: Adam's first step is lr * sign(g)).
    amsgrad's larger denominator and eps only make steps shorter."""
    b1, b2 = betas
    total = 0.0
    for t in range(1, steps + 1):
        a = [(1 - b1) * b1 ** (t - i) / (1 - b1 ** t) for i in range(1, t + 1)]
        c = [(1 - b2) * b2 ** (t - i) / (1 - b2 ** t) for i in range(1, t + 1)]
        total += sum(x * x / y for x, y in zip(a, c)) ** 0.5
    return total


def _assert_same_bookkeeping(a, b, seed):
    """Run folders ``a`` (alone) and ``b`` (vmap) agree bit for bit in what does not depend on rounding: step,
    config, data position, order and its RNG, the z / penalty RNG, Adam's settings and step counts, run.json's batch."""
    ca, cb = load(a / CHECKPOINT), load(b / CHECKPOINT)
    assert ca["step"] == cb["step"] and ca["config"] == cb["config"]
    position = [(c["sampler"]["epoch"], c["sampler"]["position"]) for c in (ca, cb)]
    assert position[0] == position[1], f"seed {seed}: data position (epoch, index) {position[1]}, alone {position[0]}"
    assert torch.equal(ca["sampler"]["order"], cb["sampler"]["order"]), f"seed {seed}: data order differs"
    assert torch.equal(ca["sampler"]["rng"], cb["sampler"]["rng"]), f"seed {seed}: data order RNG differs"
    assert torch.equal(ca["rng"]["torch"], cb["rng"]["torch"]), f"seed {seed}: z / penalty RNG differs"
    for opt in ("opt_g", "opt_d"):
        assert ca[opt]["param_groups"] == cb[opt]["param_groups"]
        assert all(torch.equal(e["step"], cb[opt]["state"][i]["step"]) for i, e in ca[opt]["state"].items())
    info = json.loads((b / RUN_INFO).read_text())
    assert info["batch"] == {"batched": True, "seeds": SEEDS, "mode": "vmap", "compile": None}


@pytest.mark.parametrize("model", ["FC", "ME-4", "HME-2", "HME-L-2"])  # FC, ME-k, HME-d constant, HME-L linear
def test_batched_seeds_equal_seeds_alone(model, tiny_images, tmp_path):
    cfg = _cfg(model)
    _alone(cfg, tiny_images, tmp_path / "alone")
    # loop mode: bit for bit, every file (losses, final G, D, Adam states, data order, RNG)
    train_seeds(cfg, SEEDS, tiny_images, tmp_path / "loop", progress=False, batch_mode="loop")
    _assert_same_files(tmp_path / "alone", tmp_path / "loop")
    # vmap mode (the GPU path): batched kernels round differently. What does not depend on rounding is still bit for
    # bit: data order, RNG streams, steps, configuration, Adam's step counts.
    train_seeds(cfg, SEEDS, tiny_images, tmp_path / "vmap", progress=False, batch_mode="vmap")
    for seed in SEEDS:
        _assert_same_bookkeeping(seed_dir(tmp_path / "alone", seed), seed_dir(tmp_path / "vmap", seed), seed)
    # Losses and weights to the float32 rounding of *training*, measured: each seed also trained alone from initial
    # weights perturbed by the float32 backward error (twice, other signs). Rounding differences do not stay small
    # over Adam steps: Adam's first steps move a weight by ~lr * sign(gradient) whatever the gradient's size, so a
    # weight whose gradient is ~0 up to rounding steps either way, and D's next losses move with it. Over these
    # 2 * (1 + d_steps) Adam steps the perturbed runs drift from the run alone by spread[step] (the most any two of
    # alone and its 2 perturbed twins differ, over both seeds: a property of the configuration and step); the vmap
    # run, whose arithmetic differs from the run alone by less than the perturbation, must stay within 2 * spread
    # (2: margin for estimating the spread's tail from these 6 pairs). Measured (4 models, oneDNN's AVX-512 and AVX2
    # kernels): the vmap run drifts by <= 0.40 spread (losses) and <= 0.76 spread (weights); planted bugs drift by
    # >= 480 spread (a seed given the other seed's gradient), >= 5.7 (10% of the other seed's gradient mixed in),
    # >= 10 (a seed's data one batch ahead, which the bit-exact data order checks above catch first).
    for k in (1, 2):
        for seed in SEEDS:
            _perturbed_alone(dataclasses.replace(cfg, seed=seed), tiny_images,
                             seed_dir(tmp_path / f"perturbed{k}", seed), perturbation=k)
    roots = ["alone", "perturbed1", "perturbed2"]
    losses = {(r, s): _losses(seed_dir(tmp_path / r, s))[1] for r in roots for s in SEEDS}
    finals = {(r, s): (load(seed_dir(tmp_path / r, s) / GENERATOR)["generator"],
                       load(seed_dir(tmp_path / r, s) / CHECKPOINT)["discriminator"]) for r in roots + ["vmap"]
              for s in SEEDS}
    spread = np.max([np.abs(losses[x, s] - losses[y, s]).max(axis=1)
                     for s in SEEDS for x, y in itertools.combinations(roots, 2)], axis=0)  # per logged step
    w_spread = [max((_flat(finals[x, s][m]) - _flat(finals[y, s][m])).norm().item()
                    for s in SEEDS for x, y in itertools.combinations(roots, 2)) for m in (0, 1)]
    d_steps = cfg.resolved_d_steps
    for seed in SEEDS:
        (head_a, la), (head_b, lb) = (_losses(seed_dir(tmp_path / root, seed)) for root in ("alone", "vmap"))
        assert head_a == head_b and la.shape == lb.shape == (2, len(head_a)) and np.array_equal(la[:, 0], lb[:, 0])
        drift = np.abs(lb - la).max(axis=1)
        assert (drift <= 2 * spread).all(), (
            f"seed {seed}: vmap losses drift from the seed alone by {drift} per step, beyond 2 x the float32 "
            f"rounding spread {spread} ({head_a}: alone {la.tolist()}, vmap {lb.tolist()})")
        init_g, init_d = build_models(dataclasses.replace(cfg, seed=seed))[:2]
        for m, (what, init, steps) in enumerate((("G", init_g, cfg.steps), ("D", init_d, cfg.steps * d_steps))):
            wa, wb = finals["alone", seed][m], finals["vmap", seed][m]
            diff = (_flat(wa) - _flat(wb)).norm().item()
            assert diff <= 2 * w_spread[m], (f"seed {seed} {what}: vmap weights {diff:.3g} from the seed alone's, "
                                             f"beyond 2 x the float32 rounding spread {w_spread[m]:.3g}")
            # and, whatever the gradients, no weight moved further than Adam can move it (the bound is reached: a
            # weight whose gradients are proportional), plus float32 rounding: of each step's arithmetic (a few u
            # relative; 8 u allowed) and of the weight it is added to (u |w|)
            w0, w1 = _flat(init.state_dict()), _flat(wb)
            reach = (cfg.lr * _adam_displacement_bound(steps, cfg.betas) * (1 + 8 * steps * U)
                     + steps * U * torch.maximum(w0.abs(), w1.abs()))
            assert ((w1 - w0).abs() <= reach).all(), f"seed {seed} {what}: a weight moved further than Adam can move it"


def _losses_and_gradients(objective, G, D, real, z, noise):
    """One D loss (the penalty's double backward), then one G loss into the same .grad, as the loop computes them:
    the logged values and every parameter's gradient."""
    d = objective.d_loss(G, D, real, z, **noise)
    d["loss"].backward()
    g = objective.g_loss(G, D, z)
    g["loss"].backward()
    values = {**{f"d_{k}": d[k].detach() for k in ("loss", "gp", "wdist")}, "g_loss": g["loss"].detach()}
    grads = {f"{what}.{n}": p.grad for what, module in (("D", D), ("G", G)) for n, p in module.named_parameters()}
    return values, grads


def _float64(module):
    copied = copy.deepcopy(module).double()
    for p in copied.parameters():
        p.grad = None
    return copied


def test_vmapped_losses_give_each_seed_its_gradients(tiny_images):
    """One D loss with the gradient penalty (double backward inside vmap), then one G loss: each seed gets its own
    losses and gradients, to float32 rounding -- measured, not assumed: the exact (float64) losses and gradients vary
    by at most ``spread`` over 3 random perturbations of the weights by the float32 backward error (BACKWARD_ERROR),
    and each float32 evaluation, vmapped or alone, is the exact one at some such perturbation, then rounded to
    float32 (u relative); two of them differ by at most 2 (spread + u |value|). Measured: the vmap-alone difference
    is <= 0.19 of that bound (oneDNN's AVX-512 and AVX2 kernels); a seed given the other seed's gradient is 22 times
    beyond it, 10% of the other seed's gradient mixed in 2.2 times."""
    models = [build_models(_cfg(seed=s)) for s in SEEDS]
    objective = models[0][2]
    assert isinstance(objective, WGANGP)
    g = torch.Generator().manual_seed(1)
    reals = [tiny_images[:8].float() / 127.5 - 1, tiny_images[8:16].float() / 127.5 - 1]
    zs = [torch.randn(8, 100, generator=g) for _ in SEEDS]
    noise = [{"alpha": torch.rand(8, 1, 1, 1, generator=g)} for _ in SEEDS]
    exact = [(_float64(G), _float64(D)) for G, D, _ in models]
    pair = StackedRuns([m[0] for m in models], [m[1] for m in models], mode="vmap")
    out = pair.apply(objective.d_loss, reals, zs, noise=noise)
    out["loss"].sum().backward()
    g_out = pair.apply(objective.g_loss, zs)
    g_out["loss"].sum().backward()
    signs = torch.Generator().manual_seed(0)
    for i, ((G, D, _), (G64, D64)) in enumerate(zip(models, exact)):
        alone, alone_grads = _losses_and_gradients(objective, G, D, reals[i], zs[i], noise[i])
        vmapped = {**{f"d_{k}": out[k][i] for k in ("loss", "gp", "wdist")}, "g_loss": g_out["loss"][i]}
        vmapped_grads = {**{f"D.{n}": p.grad[i] for n, p in pair.D.params.items()},
                         **{f"G.{n}": p.grad[i] for n, p in pair.G.params.items()}}
        inputs64 = (reals[i].double(), zs[i].double(), {k: v.double() for k, v in noise[i].items()})
        ref, ref_grads = _losses_and_gradients(objective, copy.deepcopy(G64), copy.deepcopy(D64), *inputs64)
        spread = dict.fromkeys(ref, 0.0)
        grad_spread = dict.fromkeys(ref_grads, 0.0)
        for _ in range(3):
            Gp, Dp = copy.deepcopy(G64), copy.deepcopy(D64)
            _perturb_((Gp, Dp), BACKWARD_ERROR, signs)
            values, grads = _losses_and_gradients(objective, Gp, Dp, *inputs64)
            for k in ref:
                spread[k] = max(spread[k], (values[k] - ref[k]).abs().item())
            for k in ref_grads:
                grad_spread[k] = max(grad_spread[k], (grads[k] - ref_grads[k]).norm().item())
        assert vmapped.keys() == alone.keys() == ref.keys() and vmapped_grads.keys() == alone_grads.keys()
        for k in ref:
            diff, bound = (vmapped[k] - alone[k]).abs().item(), 2 * (spread[k] + U * ref[k].abs().item())
            assert diff <= bound, (f"seed {SEEDS[i]} {k}: vmap {vmapped[k].item():.9g}, alone {alone[k].item():.9g} "
                                   f"({diff:.3g} > {bound:.3g})")
        for k in ref_grads:
            diff = (vmapped_grads[k] - alone_grads[k]).norm().item()
            bound = 2 * (grad_spread[k] + U * ref_grads[k].norm().item())
            assert diff <= bound, f"seed {SEEDS[i]} gradient of {k}: vmap - alone = {diff:.3g} > {bound:.3g}"


class Killed(Exception):
    pass


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
    import hmogbench.training.seeds

    def failing_group(*args, **kwargs):
        raise NonFiniteLossError("seed 2020: generator loss is nan at generator step 1")

    monkeypatch.setattr(hmogbench.training.seeds, "train_group", failing_group)
    infos = train_seeds(_cfg(steps=1, d_steps=1), SEEDS, tiny_images, tmp_path, progress=False)
    assert [i["status"] for i in infos] == ["complete", "complete"]  # alone, neither fails here
    assert "a seed of the batched group failed (seed 2020: generator loss is nan" in infos[0]["batch"]["reason"]
