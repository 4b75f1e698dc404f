"""The resources (memory, time, threads) one workflow job asks the scheduler for, from what the job is.

Torch-free: the Snakefile imports it while parsing. Numbers come from two sources:

* CPU, measured (benchmarks/bench_job_resources.py -> results/bench/job_resources_cpu.json; real `hmogbench`
  jobs under /usr/bin/time on a 2-core Xeon VM, torch 2.14): a job's process starts at ~1.1 GB RSS (python +
  torch) in ~6 s; training runs 47-85 GFLOP/s on 2 threads (1 thread: 1.5x slower), counted with
  ``hmogbench.training.flops.step_flops``; activations ~6 MB per image through the networks at 64x64 (x (size/64)^2);
  Inception v3 at 299x299 ~13 images/s.  Assumed here: 20 GFLOP/s per thread, at most 2 threads counted.
* GPU, assumed (nothing measured): training in fp32 (the faithful default, TF32 off) at 30 % of an A100's dense
  fp32 peak (5.85 TFLOP/s), in tf32 / bf16 (config ``train_precision``) that rate x ``GPU_PRECISION_SPEEDUP``;
  Inception features at 10 % of its fp32 peak (1.95 TFLOP/s: features run fp32, TF32 off, by default); plus
  0.02 s per generator step of launch overhead; host memory = CPU base + 3 GB (CUDA context, libraries, pinned
  copies); the activations live in GPU memory, not in ``mem_mb``.  Seeds of one job are timed one after another
  (the vmap-batched mode is faster; unmeasured, so not relied on).  Conservative on purpose.

FLOPs per generator step (batch 128) and per generator forward come from ``_FLOPS`` below, precomputed with
``hmogbench.training.flops`` (tests/test_job_resources.py checks they still agree).  Safety: 1.5x memory, 2x time;
then memory rounds up to 500 MB, time up to whole minutes with a floor of 5 min for train/evaluate jobs.
Training data stay on the host as uint8: counted twice (loaded array + a contiguous copy).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..registry import families
from ..registry.datasets import get_dataset

MEM_FACTOR, TIME_FACTOR = 1.5, 2.0
BASE_MB, BASE_S = 1100.0, 10.0  # a job's python + torch process, its start-up
CUDA_HOST_MB = 3000.0  # CUDA context, libraries and pinned host copies (assumed)
CPU_FLOPS_PER_THREAD, CPU_THREADS_COUNTED = 20e9, 2
GPU_TRAIN_FLOPS = 0.30 * 19.5e12  # fp32 training: 30 % of an A100's dense fp32 (CUDA-core) peak
# Training precision (config train_precision) -> speed-up of a GPU step's FLOP part over fp32. Assumed, not
# measured: a quarter of the A100 datasheet's TF32 / fp32 peak ratio (156 / 19.5 = 8x) for tf32, an eighth of
# its bf16 / fp32 ratio (312 / 19.5 = 16x) for bf16, because only the matmuls and convolutions speed up, not a
# step's elementwise work, its launches or (bf16) its float32 gradient penalty. benchmarks/gpu_check.py's part
# 'precision' measures the real ratios. None on a CPU (no TF32; bf16 autocast not counted on to be faster).
GPU_PRECISION_SPEEDUP = {"fp32": 1.0, "tf32": 2.0, "bf16": 2.0}
GPU_FEATURE_FLOPS = 0.10 * 19.5e12  # 10 % of an A100's fp32 peak
GPU_STEP_OVERHEAD_S = 0.02  # kernel launches per generator step (critic steps included)
ACT_MB_PER_IMAGE_64 = 6.0  # activations per image through G and D at 64x64 (measured ~5.7)
INCEPTION_FLOPS = 11_426_432_192  # hmogbench.training.flops.inception_flops(): one 299x299 image
INCEPTION_MB = 2500.0  # Inception v3 weights + batch-100 activations at 299x299, per loaded network
INCEPTION_CPU_IMAGES_S = 10.0  # measured ~13 images/s on 2 threads
MIN_TRAIN_MIN = 5

# model: (step FLOPs at batch 128 at 32x32x1, G forward FLOPs per sample at 32x32x1, the same at 64x64x3)
_FLOPS = {
    "FC": (3.062e+11, 3.49e+07, 1.862e+12, 2.093e+08),
    "HME-5": (3.057e+11, 3.435e+07, 1.861e+12, 2.081e+08),
    "HME-6": (3.06e+11, 3.462e+07, 1.861e+12, 2.087e+08),
    "HME-7": (3.065e+11, 3.515e+07, 1.863e+12, 2.097e+08),
    "HME-8": (3.076e+11, 3.623e+07, 1.865e+12, 2.119e+08),
    "ME-32": (3.057e+11, 3.435e+07, 1.861e+12, 2.081e+08),
    "ME-64": (3.06e+11, 3.462e+07, 1.861e+12, 2.087e+08),
    "ME-128": (3.065e+11, 3.515e+07, 1.863e+12, 2.097e+08),
    "ME-256": (3.076e+11, 3.623e+07, 1.865e+12, 2.119e+08),
    "HME-L-2": (3.088e+11, 3.739e+07, 1.867e+12, 2.142e+08),
    "HME-L-3": (3.122e+11, 4.07e+07, 1.874e+12, 2.209e+08),
    "HME-L-4": (3.19e+11, 4.732e+07, 1.888e+12, 2.341e+08),
    "HME-L-5": (3.325e+11, 6.056e+07, 1.915e+12, 2.606e+08),
    "ME-L-4": (3.088e+11, 3.739e+07, 1.867e+12, 2.142e+08),
    "ME-L-8": (3.122e+11, 4.07e+07, 1.874e+12, 2.209e+08),
    "ME-L-16": (3.19e+11, 4.732e+07, 1.888e+12, 2.341e+08),
    "ME-L-32": (3.325e+11, 6.056e+07, 1.915e+12, 2.606e+08),
    "MADGAN-4": (1.719e+11, 3.736e+07, 1.04e+12, 2.142e+08),
    "MADGAN-8": (3.309e+11, 4.063e+07, 2.001e+12, 2.207e+08),
    "MADGAN-16": (6.494e+11, 4.719e+07, 3.923e+12, 2.338e+08),
    "MADGAN-32": (1.288e+12, 6.029e+07, 7.771e+12, 2.6e+08),
    "MGAN-4": (5.281e+10, 3.736e+07, 3.198e+11, 2.142e+08),
    "MGAN-8": (5.284e+10, 4.063e+07, 3.199e+11, 2.207e+08),
    "MGAN-16": (5.291e+10, 4.719e+07, 3.2e+11, 2.338e+08),
    "MGAN-32": (5.304e+10, 6.029e+07, 3.203e+11, 2.6e+08),
    "MEGAN-4": (1.825e+11, 4.064e+07, 1.079e+12, 2.207e+08),
    "MEGAN-8": (1.905e+11, 4.72e+07, 1.095e+12, 2.338e+08),
    "MEGAN-16": (2.065e+11, 6.035e+07, 1.127e+12, 2.601e+08),
    "MEGAN-32": (2.385e+11, 8.672e+07, 1.191e+12, 3.127e+08),
}

@dataclass(frozen=True)
class JobResources:
    """What one job asks for: ``mem_mb`` (MB of host memory), ``runtime`` (minutes), ``threads`` (CPU cores)."""

    mem_mb: int
    runtime: int  # minutes
    threads: int


def _finish(mem_mb: float, seconds: float, threads: int, max_threads: int | None, min_minutes: int = 1
            ) -> JobResources:
    """Apply the safety factors, round up (500 MB, whole minutes, floors) and cap the threads."""
    mem = 500 * math.ceil(MEM_FACTOR * mem_mb / 500)
    minutes = max(min_minutes, math.ceil(TIME_FACTOR * seconds / 60))
    if max_threads is not None:
        threads = min(threads, max_threads)
    return JobResources(int(mem), int(minutes), max(1, int(threads)))


def on_gpu(device: str) -> bool:
    """'cuda', 'cuda:N', 'auto' (the submit host cannot know: treated as a GPU) and 'mps' run on an accelerator."""
    return device != "cpu"


def _generators(model: str) -> tuple[str, int]:
    """(printed family, generators) of a thesis model name: HME-d has 2^d leaves, FC one generator."""
    family, k = families.generators_of(model)
    return family.name, k


def default_steps(model: str) -> int:
    """The authors' generator steps of ``model`` (``TrainConfig.resolved_steps`` with steps=None)."""
    return families.default_steps(model)


def model_flops(model: str, image_size: int, channels: int) -> tuple[float, float]:
    """(FLOPs of one generator step at batch 128, G forward FLOPs per sample), from the precomputed table: the
    32x32x1 entry scaled by pixels x channels over 32x32x1 (or the 64x64x3 one, over 64x64x3, from 48 px up).
    A name not in the table takes its family's largest entry, times K / K_largest if its K is larger (a family
    with no entry: the table's largest row)."""
    key = model.strip().upper()
    if key not in _FLOPS:
        family, k = _generators(model)
        same = [(n, _generators(n)[1]) for n in _FLOPS if _generators(n)[0] == family and ("-L-" in n) == ("-L-" in key)]
        if not same:  # a family the table does not have yet: its largest row, conservatively
            same = [(max(_FLOPS, key=lambda n: _FLOPS[n][0]), k)]
        name, k_max = max(same, key=lambda t: t[1])
        row = tuple(v * max(1.0, k / k_max) for v in _FLOPS[name])
    else:
        row = _FLOPS[key]
    big = image_size >= 48
    ref = 64 * 64 * 3 if big else 32 * 32 * 1
    scale = image_size * image_size * channels / ref
    return (row[2] if big else row[0]) * scale, (row[3] if big else row[1]) * scale


def _images_per_step(model: str, batch_size: int) -> int:
    """Images through the networks in one step: the reals and the fakes (MADGAN-K: K fakes per z)."""
    family, k = families.generators_of(model)
    return batch_size * (1 + (k if families.OBJECTIVES[family.objective].all_generators_per_z else 1))


def train_images(dataset: str, size_mb: float | None = None) -> int:
    """Images a train job on the prepared set ``dataset`` reads: from its train.npy's size in MB (uint8,
    channels x size x size bytes each) once the file exists, else the registry's training split."""
    entry = get_dataset(dataset)
    if size_mb:
        return int(size_mb * 1e6 / (entry.channels * entry.image_size ** 2))
    return entry.train_images


def gpu_train_flops(precision: str) -> float:
    """The assumed FLOP/s of GPU training in ``precision`` (fp32 | tf32 | bf16, config ``train_precision``)."""
    if precision not in GPU_PRECISION_SPEEDUP:
        raise ValueError(f"train_precision {precision!r}: expected one of {', '.join(GPU_PRECISION_SPEEDUP)}")
    return GPU_TRAIN_FLOPS * GPU_PRECISION_SPEEDUP[precision]


def train_resources(*, model: str, image_size: int, channels: int, batch_size: int, steps: int, seeds: int,
                    device: str, train_images: int, max_threads: int | None = None, precision: str = "fp32"
                    ) -> JobResources:
    """One train job: ``seeds`` runs of ``steps`` generator steps at ``batch_size`` on ``train_images`` images
    of image_size x image_size x channels, in training precision ``precision``. Time: seeds one after another
    (FLOPs / the assumed rate of the precision on a GPU, of fp32 on a CPU, plus launch overhead on a GPU). Memory
    (MB): process + 2 uint8 copies of the data, + activations of all seeds on a CPU (covers vmap batching), + the
    CUDA host share on a GPU. Threads: 4 on a GPU (data, launches), 2 on a CPU (2 threads measured 1.5x faster
    than 1; more not measured)."""
    flops128, _ = model_flops(model, image_size, channels)
    step_flops = flops128 * batch_size / 128
    data_mb = 2 * train_images * image_size * image_size * channels / 1e6
    rate = gpu_train_flops(precision)  # checked on a CPU too: a bad value is named wherever it is given
    if on_gpu(device):
        seconds = BASE_S + 60 + seeds * steps * (step_flops / rate + GPU_STEP_OVERHEAD_S)
        return _finish(BASE_MB + CUDA_HOST_MB + data_mb, seconds, 4, max_threads, MIN_TRAIN_MIN)
    threads = 2
    seconds = BASE_S + seeds * steps * step_flops / (CPU_FLOPS_PER_THREAD * min(threads, CPU_THREADS_COUNTED))
    act_mb = seeds * _images_per_step(model, batch_size) * ACT_MB_PER_IMAGE_64 * (image_size / 64) ** 2
    return _finish(BASE_MB + data_mb + act_mb, seconds, threads, max_threads, MIN_TRAIN_MIN)


def _features_s(space: str, images: int, device: str) -> float:
    """Seconds to take ``images`` images' features in ``space`` (pixels: a reshape)."""
    if space == "pixels":
        return 0.0
    if on_gpu(device):
        return images * INCEPTION_FLOPS / GPU_FEATURE_FLOPS
    return images / INCEPTION_CPU_IMAGES_S


def _feature_dim(space: str, image_size: int, channels: int) -> int:
    return image_size * image_size * channels if space == "pixels" else 2048


def evaluate_resources(*, model: str, image_size: int, channels: int, seeds: int, spaces: list[str],
                       eval_images: int, device: str, max_threads: int | None = None, snapshots: int = 0,
                       over_training_space: str | None = None, over_training_images: int = 0) -> JobResources:
    """One evaluate job: per seed, ``eval_images`` samples, their features in every space and the FD/KID/5-NN
    scores (score: 2 s + 10 s x (N / 10,000)^2 x dim / 2048, float64 on the CPU); with ``snapshots`` (FD over
    training, config ``eval_every``), as many more scorings of ``over_training_images`` in ``over_training_space``.
    Memory (MB): process, the loaded Inception networks, one seed's float32 samples, real + fake features of every
    space (float32 and a float64 copy), a 5-NN chunk."""
    _, g_flops = model_flops(model, image_size, channels)
    gpu = on_gpu(device)
    g_rate = GPU_TRAIN_FLOPS if gpu else CPU_FLOPS_PER_THREAD * CPU_THREADS_COUNTED

    def scoring_s(space: str, images: int) -> float:
        dim = _feature_dim(space, image_size, channels)
        return _features_s(space, images, device) + 2 + 10 * (images / 10_000) ** 2 * max(dim, 2048) / 2048

    per_seed = eval_images * g_flops / g_rate + sum(scoring_s(space, eval_images) for space in spaces)
    if snapshots and over_training_space is not None:
        per_seed += snapshots * (over_training_images * g_flops / g_rate
                                 + scoring_s(over_training_space, over_training_images))
    seconds = BASE_S + 5 * len(spaces) + (60 if gpu else 0) + seeds * per_seed
    networks = sum(space != "pixels" for space in spaces)
    samples_mb = eval_images * image_size * image_size * channels * 4 / 1e6
    feats_mb = sum(2 * eval_images * _feature_dim(s, image_size, channels) * 12 / 1e6 for s in spaces)
    mem = BASE_MB + networks * INCEPTION_MB + samples_mb + feats_mb + 300 + (CUDA_HOST_MB if gpu else 0)
    return _finish(mem, seconds, 4 if gpu else 2, max_threads, MIN_TRAIN_MIN)


def real_features_resources(*, space: str, eval_images: int, image_size: int, channels: int, device: str,
                            max_threads: int | None = None) -> JobResources:
    """Features of ``eval_images`` real test images in ``space``: process, the images (uint8 and one float32
    copy), the network and the features (MB); time: load + extraction (s)."""
    gpu = on_gpu(device)
    images_mb = eval_images * image_size * image_size * channels * 5 / 1e6
    feats_mb = eval_images * _feature_dim(space, image_size, channels) * 12 / 1e6
    mem = BASE_MB + images_mb + feats_mb + (INCEPTION_MB if space != "pixels" else 0) + (CUDA_HOST_MB if gpu else 0)
    seconds = BASE_S + 5 + (60 if gpu else 0) + _features_s(space, eval_images, device)
    return _finish(mem, seconds, 4 if gpu else 2, max_threads, 2)


def prepare_resources(*, dataset_images: int, max_threads: int | None = None) -> JobResources:
    """`hmogbench data prepare` of ``dataset_images`` raw images: measured 5,000 CelebA images in 7 s at
    670 MB with 2 workers. Memory (MB): process + 3 copies of the 64x64x3 uint8 output (the array, train/test
    split copies); time: 5 ms per image (decode + crop + resize, 3x the measured rate: full-size JPEGs are
    4x the pixels of the measured 89x109 ones). 4 decoding threads."""
    mem = BASE_MB + 3 * dataset_images * 64 * 64 * 3 / 1e6
    return _finish(mem, BASE_S + 0.005 * dataset_images, 4, max_threads, 2)


def figures_resources(*, device: str, max_threads: int | None = None) -> JobResources:
    """`hmogbench figures` of one run: constants, not measured (10,000 z draws and 1,000 permutations of one
    generator, small next to training): 4,000 MB, 15 min (x the safety factors: 6,000 MB, 30 min)."""
    gpu = on_gpu(device)
    return _finish(4000 + (CUDA_HOST_MB if gpu else 0), 15 * 60, 2, max_threads, 5)


def asked_minutes(minutes: int, attempt: int, max_job_hours: float | None) -> int:
    """The time limit a job asks for, in minutes: its size (`minutes`) x the attempt (a resubmitted job gets more),
    at most `max_job_hours` (config; None: no cap). A training longer than the cap stops at the limit with a
    checkpoint and goes on when resubmitted."""
    asked = minutes * attempt
    return asked if max_job_hours is None else min(asked, max(1, int(60 * max_job_hours)))
