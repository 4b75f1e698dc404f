"""hmogbench.workflow.job_resources: torch-free, fits the smoke grid on a 2-CPU node, grows with the job, covers what
benchmarks/bench_job_resources.py measured, and its FLOP table agrees with hmogbench.training.flops."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from hmogbench.registry.datasets import get_dataset
from hmogbench.workflow import job_resources as jr

ROOT = Path(__file__).resolve().parents[1]
MEASURED = ROOT / "results" / "bench" / "job_resources_cpu.json"
SMOKE_MODELS = ["FC", "HME-5", "ME-32", "HME-L-2", "ME-L-4", "MADGAN-4", "MGAN-4", "MEGAN-4"]
SMOKE_TRAIN = dict(image_size=32, channels=1, batch_size=16, steps=3, seeds=2, device="cpu", train_images=4000)
SMOKE_EVAL = dict(image_size=32, channels=1, seeds=2, spaces=["pixels"], eval_images=200, device="cpu")
PAPER_TRAIN = dict(model="HME-L-5", image_size=64, channels=3, batch_size=128, steps=23_250, seeds=5,
                   device="auto", train_images=get_dataset("celeba").train_images)


def test_torch_free():
    code = ("import sys, hmogbench.workflow.job_resources as r; "
            "r.train_resources(model='HME-L-5', image_size=64, channels=3, batch_size=128, steps=10, seeds=5, "
            "device='auto', train_images=1000); "
            "r.evaluate_resources(model='MADGAN-64', image_size=32, channels=1, seeds=2, spaces=['fid-inception'], "
            "eval_images=100, device='cpu'); "
            "r.real_features_resources(space='pixels', eval_images=10, image_size=32, channels=1, device='cpu'); "
            "r.prepare_resources(dataset_images=10); r.figures_resources(device='cpu'); "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


@pytest.mark.parametrize("model", SMOKE_MODELS)
def test_smoke_grid_fits_a_2_cpu_20_gb_node(model):
    for res in (jr.train_resources(model=model, **SMOKE_TRAIN, max_threads=2),
                jr.evaluate_resources(model=model, **SMOKE_EVAL, max_threads=2)):
        assert res.threads <= 2 and res.mem_mb <= 20_000 and 5 <= res.runtime <= 30
    real = jr.real_features_resources(space="pixels", eval_images=200, image_size=32, channels=1, device="cpu",
                                      max_threads=2)
    assert real.threads <= 2 and real.mem_mb <= 20_000 and real.runtime <= 30


def test_paper_grid_train_asks_more_but_within_a_node():
    """5-seed jobs up to ~4 days (MADGAN-32 at 64x64 in fp32 at 30 % of an A100's fp32 peak, x 2), one seed
    (batch_seeds: False) within 48 h."""
    smoke = jr.train_resources(model="HME-L-2", **SMOKE_TRAIN)
    for model in ("HME-L-5", "MADGAN-32", "ME-L-32", "MEGAN-32"):
        steps = jr.default_steps(model)
        paper = jr.train_resources(**{**PAPER_TRAIN, "model": model, "steps": steps})
        one_seed = jr.train_resources(**{**PAPER_TRAIN, "model": model, "steps": steps, "seeds": 1})
        assert paper.mem_mb > smoke.mem_mb and paper.runtime >= 10 * smoke.runtime
        assert paper.mem_mb <= 64_000 and paper.runtime <= 96 * 60 and paper.threads == 4
        assert one_seed.runtime <= 48 * 60


def test_no_job_asks_more_than_max_job_hours_and_a_retry_asks_more_up_to_it():
    """The longest paper-grid training (~90 h at the fp32 rate) asks config max_job_hours (24 h by default) and goes
    on over resubmissions; a short job asks its size x the attempt; null: no cap."""
    longest = jr.train_resources(**{**PAPER_TRAIN, "model": "MADGAN-32", "steps": jr.default_steps("MADGAN-32")})
    assert longest.runtime > 48 * 60
    assert jr.asked_minutes(longest.runtime, 1, 24) == jr.asked_minutes(longest.runtime, 3, 24) == 24 * 60
    assert jr.asked_minutes(longest.runtime, 2, None) == 2 * longest.runtime
    assert [jr.asked_minutes(40, attempt, 1.5) for attempt in (1, 2, 3)] == [40, 80, 90]


@pytest.mark.parametrize("precision", ["tf32", "bf16"])
def test_gpu_runtime_shrinks_by_the_precisions_stated_speedup_and_not_on_a_cpu(precision):
    """The FLOP part of a GPU job's time divides by ``GPU_PRECISION_SPEEDUP`` (launches and start-up do not); a
    CPU job's time does not change; a precision not in the table is refused by name."""
    job = {**PAPER_TRAIN, "model": "HME-L-5", "steps": 23_250}
    step_flops, _ = jr.model_flops("HME-L-5", 64, 3)
    flop_s = job["seeds"] * job["steps"] * step_flops / jr.GPU_TRAIN_FLOPS
    fixed_s = jr.BASE_S + 60 + job["seeds"] * job["steps"] * jr.GPU_STEP_OVERHEAD_S
    for device in ("cuda", "auto"):
        fp32 = jr.train_resources(**{**job, "device": device})
        fast = jr.train_resources(**{**job, "device": device, "precision": precision})
        speedup = jr.GPU_PRECISION_SPEEDUP[precision]
        assert speedup > 1 and fp32.runtime == math.ceil(jr.TIME_FACTOR * (fixed_s + flop_s) / 60)
        assert fast.runtime == math.ceil(jr.TIME_FACTOR * (fixed_s + flop_s / speedup) / 60) < fp32.runtime
        assert fast.mem_mb == fp32.mem_mb and fast.threads == fp32.threads
    cpu = {**job, "device": "cpu", "steps": 200}
    assert jr.train_resources(**cpu, precision=precision) == jr.train_resources(**cpu)
    with pytest.raises(ValueError, match="train_precision 'fp16': expected one of fp32, tf32, bf16"):
        jr.train_resources(**job, precision="fp16")
    ev = jr.evaluate_resources(model="HME-L-5", image_size=64, channels=3, seeds=5, eval_images=10_000,
                               spaces=["thesis-inception", "fid-inception"], device="auto")
    assert ev.mem_mb <= 64_000 and ev.runtime <= 48 * 60


def test_monotonic():
    def bigger(a, b):
        return a.mem_mb <= b.mem_mb and a.runtime <= b.runtime

    base = dict(PAPER_TRAIN, device="cpu", steps=200)
    for key, more in (("steps", 2000), ("seeds", 10), ("batch_size", 512), ("train_images", 10 ** 6)):
        for device in ("cpu", "cuda"):
            a = jr.train_resources(**{**base, "device": device})
            b = jr.train_resources(**{**base, "device": device, key: more})
            assert bigger(a, b) and (a != b or key != "steps"), (key, device)
    ev = dict(model="FC", image_size=64, channels=3, seeds=2, spaces=["pixels", "fid-inception"], device="cpu")
    for device in ("cpu", "cuda"):
        small = jr.evaluate_resources(**{**ev, "device": device}, eval_images=1_000)
        large = jr.evaluate_resources(**{**ev, "device": device}, eval_images=10_000)
        assert bigger(small, large) and small != large
    assert bigger(jr.real_features_resources(space="fid-inception", eval_images=100, image_size=64, channels=3,
                                             device="cpu"),
                  jr.real_features_resources(space="fid-inception", eval_images=10_000, image_size=64, channels=3,
                                             device="cpu"))
    assert bigger(jr.prepare_resources(dataset_images=1000), jr.prepare_resources(dataset_images=200_000))


def test_max_threads_caps_every_rule():
    calls = [lambda m: jr.train_resources(**PAPER_TRAIN, max_threads=m),
             lambda m: jr.evaluate_resources(**SMOKE_EVAL, model="FC", max_threads=m),
             lambda m: jr.real_features_resources(space="pixels", eval_images=10, image_size=32, channels=1,
                                                  device="cuda", max_threads=m),
             lambda m: jr.prepare_resources(dataset_images=10, max_threads=m),
             lambda m: jr.figures_resources(device="cuda", max_threads=m)]
    for call in calls:
        assert call(1).threads == 1 and call(None).threads >= call(2).threads
    assert jr.train_resources(**PAPER_TRAIN).threads == 4  # GPU: data loading and launches


def test_rounding_and_floor():
    res = jr.train_resources(model="FC", **{**SMOKE_TRAIN, "steps": 1})
    assert res.mem_mb % 500 == 0 and res.runtime >= 5 and isinstance(res.runtime, int)
    with pytest.raises(FrozenInstanceError):
        res.mem_mb = 1


def test_unknown_sizes_take_the_family_largest():
    assert jr.model_flops("MADGAN-64", 32, 1)[0] >= 2 * jr.model_flops("MADGAN-32", 32, 1)[0] * 0.99
    assert jr.model_flops("HME-9", 32, 1)[0] >= jr.model_flops("HME-8", 32, 1)[0]
    with pytest.raises(ValueError):
        jr.model_flops("GAN-3", 32, 1)


def test_flop_table_agrees_with_hmogbench_flops():
    pytest.importorskip("torch")
    from hmogbench.models.spec import ModelSpec
    from hmogbench.tables.grid import paper_models
    from hmogbench.training.config import TrainConfig
    from hmogbench.training.flops import inception_flops, model_flops, step_flops

    assert set(jr._FLOPS) == set(paper_models("mnist")) == set(paper_models("celeba"))
    for model in jr._FLOPS:
        ModelSpec.parse(model)
    # every family's smallest and largest member, at both image sizes (all 29 x 2 take ~8 s)
    for model in ("FC", "HME-5", "ME-256", "HME-L-5", "ME-L-4", "MADGAN-4", "MADGAN-32", "MGAN-32", "MEGAN-32"):
        cfg = TrainConfig(model=model)
        assert jr.default_steps(model) == cfg.resolved_steps
        for dataset, size, channels in (("mnist", 32, 1), ("celeba", 64, 3)):
            cfg = TrainConfig(model=model, dataset=dataset, image_size=size, channels=channels, batch_size=128)
            step, gen = jr.model_flops(model, size, channels)
            assert step == pytest.approx(step_flops(cfg), rel=1e-3), (model, size)
            assert gen == pytest.approx(model_flops(cfg).generator, rel=1e-3), (model, size)
    assert jr.INCEPTION_FLOPS == inception_flops()


def _measured_rows():
    if not MEASURED.exists():
        pytest.skip(f"{MEASURED} not measured (python -m benchmarks.bench_job_resources)")
    return json.loads(MEASURED.read_text())["rows"]


def test_formula_covers_every_measured_row():
    rows = _measured_rows()
    assert {r["job"] for r in rows} >= {"train", "evaluate", "real_features", "prepare"}
    for r in rows:
        if r["job"] == "train":
            res = jr.train_resources(model=r["model"], image_size=r["image_size"], channels=r["channels"],
                                     batch_size=r["batch_size"], steps=r["steps"], seeds=r["seeds"], device="cpu",
                                     train_images=5000)
        elif r["job"] == "evaluate":
            res = jr.evaluate_resources(model=r["model"], image_size=r["image_size"], channels=r["channels"],
                                        seeds=r["seeds"], spaces=r["spaces"], eval_images=r["eval_images"],
                                        device="cpu")
        elif r["job"] == "real_features":
            res = jr.real_features_resources(space=r["space"], eval_images=r["eval_images"],
                                             image_size=r["image_size"], channels=r["channels"], device="cpu")
        else:
            res = jr.prepare_resources(dataset_images=r["dataset_images"])
        assert res.mem_mb >= r["peak_rss_mb"], r
        assert res.runtime * 60 >= r["wall_s"], r
