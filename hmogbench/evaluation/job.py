"""``hmogbench evaluate``: every seed of one trained model, in every feature space, in one process.

The per-step commands ``hmogbench sample`` -> ``hmogbench features`` -> ``hmogbench score --precomputed`` give
one metrics record per (space, seed). This gives the same records -- the same numbers from the same samples,
the same provenance chain -- with each generator loaded once, its samples kept in memory (uint8, exactly
what the chain's .npy holds), each feature network loaded once, and the CPU-bound scoring (Fréchet distance,
KID) of one seed overlapped with the next seed's sampling and features on the device.

Each record is written atomically as soon as it is known. A record already on disk that was made from the
same generator file (sha256), sample count, z seed, space, weights, real feature file and k-NN settings is
kept: a rerun after a kill redoes only what is missing.

With ``over_training`` set, each run's generator snapshots (``training.snapshots``) are scored too, in one space
with fewer samples, into one file per run (``evaluation.over_training``), by the same sampling, features and
scoring; ``select='best'`` scores the snapshot of lowest FD instead of the final generator.
"""

from __future__ import annotations

import json
import string
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..data.images import image_count, to_nchw
from ..metrics.feature_files import load_features, save_features
from ..metrics.features import extract_features
from ..metrics.fid import statistics
from ..metrics.kid import SUBSET_SIZE, capped_subset_size
from ..metrics.record import check_same_space, scored_against_real, summary
from ..metrics.score import space_meta
from ..metrics.spaces import Extractor, load_space
from ..pictures.grid import save_sample_grid
from ..runtime.provenance import atomic_path, file_digest, provenance, write_json_atomic
from ..training.sampling import FAKE_PIXELS, generator_path, load_generator, sample_images, samples_record
from ..training.snapshots import snapshot_files
from .over_training import (OverTrainingSettings, check_over_training, read_over_training, selection,
                            write_over_training)

OUT_FIELDS = {"space", "seed", "dataset", "model"}  # placeholders of the output patterns


@dataclass(frozen=True)
class EvaluationSettings:
    """What ``evaluate`` computes and where it writes. Patterns are ``str.format`` templates over
    ``{space}``, ``{seed}``, ``{dataset}`` and ``{model}`` (the last two from the run's TrainConfig)."""

    spaces: tuple[str, ...]
    real_features: str  # pattern with {space}: the real set's feature file (``hmogbench features``)
    out: str  # pattern with {space} and {seed}: one metrics JSON per space and seed
    count: int = 10_000  # samples per run (thesis: 10,000)
    at_most_like: str | None = None  # no more samples than this uint8 .npy holds (the real test set)
    weights: dict[str, str] = field(default_factory=dict)  # space -> weights file (default: the usual search)
    precision: str = "fp32"
    channels_last: bool = False
    compile_mode: str | None = None  # torch.compile mode of the feature networks (opt-in speed)
    feature_batch_size: int = 100
    sample_batch_size: int = 100  # thesis: 100
    fake_pixels: str = "float"  # 'float': G's output in [0, 1] unrounded (the authors'); 'uint8': rounded first
    k: int = 5
    knn_rule: str = "soft"
    samples_out: str | None = None  # pattern with {seed}: also keep the samples (.npy + .json, as `sample`)
    features_out: str | None = None  # pattern with {space} and {seed}: also keep the fake features
    grid_out: str | None = None  # pattern with {seed}: an 8 x 8 PNG of the first 64 evaluation samples
    over_training: OverTrainingSettings | None = None  # also score the runs' generator snapshots (FD over training)


def check_pattern(name: str, pattern: str, required: set[str]) -> None:
    """A pattern's placeholders must be known and include ``required``; one-line error naming the option."""
    try:
        used = {f for _, f, _, _ in string.Formatter().parse(pattern) if f is not None}
    except ValueError as exc:
        raise ValueError(f"{name} {pattern!r}: not a valid pattern ({exc})") from None
    if used - OUT_FIELDS or required - used:
        raise ValueError(f"{name} {pattern!r}: expected the placeholders {', '.join(sorted(required))} "
                         f"(others allowed: {', '.join(sorted(OUT_FIELDS - required))}), got {sorted(used)}")


def check_settings(settings: EvaluationSettings) -> None:
    if not settings.spaces or len(set(settings.spaces)) != len(settings.spaces):
        raise ValueError(f"--spaces: expected one or more distinct feature spaces, got {list(settings.spaces)}")
    check_pattern("--out", settings.out, {"space", "seed"})
    check_pattern("--real-features", settings.real_features, {"space"})
    if settings.samples_out:
        check_pattern("--samples-out", settings.samples_out, {"seed"})
    if settings.features_out:
        check_pattern("--features-out", settings.features_out, {"space", "seed"})
    if settings.grid_out:
        check_pattern("--grid-out", settings.grid_out, {"seed"})
    if settings.count < 1:
        raise ValueError(f"--count must be at least 1, got {settings.count}")
    if settings.fake_pixels not in FAKE_PIXELS:
        raise ValueError(f"--fake-pixels: expected one of {', '.join(FAKE_PIXELS)}, got {settings.fake_pixels!r}")
    if settings.over_training is not None:
        check_pattern("--over-training-out", settings.over_training.out, {"seed"})
        check_over_training(settings.over_training)


@dataclass
class LoadedSpace:
    """One feature space of the job: its loaded network, the real features (N_r, D), their file and sidecar,
    and their float64 mean and covariance (computed once, for every seed's Fréchet distance)."""

    extractor: Extractor
    real_path: Path
    real: np.ndarray
    real_meta: dict
    real_statistics: tuple[np.ndarray, np.ndarray]

    def first(self, n: int) -> LoadedSpace:
        """This space with the first ``n`` real features only (the features of the first ``n`` real images)."""
        if n >= len(self.real):
            return self
        real = self.real[:n]
        return LoadedSpace(self.extractor, self.real_path, real, self.real_meta, statistics(real))


def load_spaces(settings: EvaluationSettings, device: torch.device,
                names: tuple[str, ...] | None = None) -> dict[str, LoadedSpace]:
    """Each space's (``names``, default ``settings.spaces``) real features and its network, loaded once; the
    network must be the one (space, distance name, weights sha256) that made the real features."""
    spaces = {}
    for name in names or settings.spaces:
        path = Path(settings.real_features.format(space=name))
        real, meta = load_features(path)
        extractor = load_space(name, weights=settings.weights.get(name), device=device,
                               precision=settings.precision, channels_last=settings.channels_last,
                               compile_mode=settings.compile_mode)
        check_same_space(str(path), meta, f"the {name} network of this job", space_meta(extractor))
        spaces[name] = LoadedSpace(extractor, path, real, meta, statistics(real))
    return spaces


def sample_count(settings: EvaluationSettings) -> int:
    """``count``, but no more than the ``at_most_like`` array holds (equal real and fake set sizes); that array
    is checked first (``data.images.image_count``: its size, and its sha256 where a manifest.json lists it)."""
    if settings.at_most_like is None:
        return settings.count
    return min(settings.count, image_count(settings.at_most_like))


def record_config(settings: EvaluationSettings, space: LoadedSpace, run: str, count: int) -> dict:
    """The provenance config of one record: what was asked of this space and run."""
    return {"command": "evaluate", "real": str(space.real_path), "fake": run, "count": count,
            "features": space.extractor.space.name, "weights": settings.weights.get(space.extractor.space.name),
            "k": settings.k, "knn_rule": settings.knn_rule, "batch_size": settings.feature_batch_size,
            "sample_batch_size": settings.sample_batch_size, "fake_pixels": settings.fake_pixels,
            "precision": settings.precision, "channels_last": settings.channels_last, "compile": settings.compile_mode}


def is_current(path: Path, space: LoadedSpace, generator_sha256: str, count: int, z_seed: int,
               settings: EvaluationSettings) -> bool:
    """Whether the record at ``path`` was made from this generator, count and z seed, against this real
    feature file with this network and these k-NN settings (then a rerun keeps it)."""
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):  # missing or unreadable: recompute
        return False
    return record_is_current(record, space, generator_sha256, count, z_seed, settings)


def record_is_current(record: dict, space: LoadedSpace, generator_sha256: str, count: int, z_seed: int,
                      settings: EvaluationSettings) -> bool:
    """``is_current`` of a record already read (a snapshot's record in its run's over-training file)."""
    try:
        source = record["fake_source"]
        check_same_space(str(space.real_path), space.real_meta, "the record on disk", record)  # ValueError if not
        return (source["generator_sha256"] == generator_sha256 and source["count"] == count
                and source["z_seed"] == z_seed and source.get("pixels", "uint8") == settings.fake_pixels
                and record["real"] == str(space.real_path)
                and record["n_real"] == len(space.real) and record["knn_k"] == settings.k
                and record["knn_rule"] == settings.knn_rule and "prdc" in record)  # older records: recompute
    except (ValueError, KeyError, TypeError):  # malformed or another run's: recompute
        return False


def as_batch(images: np.ndarray, what: str) -> torch.Tensor:
    """Samples (N, H, W, C) as the feature networks take them: uint8 -> (N, C, H, W) uint8; float in [0, 1] ->
    (N, C, H, W) float, unrounded. ``what`` names them in an error."""
    if images.dtype == np.uint8:
        return to_nchw(images, what)
    return torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))


def as_uint8(images: np.ndarray) -> np.ndarray:
    """Samples (N, H, W, C), uint8 or float in [0, 1] -> uint8, round(255 p) for float."""
    return images if images.dtype == np.uint8 else np.round(images * 255).astype(np.uint8)


class Evaluation:
    """One job: ``run(path)`` evaluates one trained run; scoring goes to a worker thread, so that the
    device samples and extracts the next run's features meanwhile; ``wait()`` returns the written records."""

    def __init__(self, settings: EvaluationSettings, device: str | torch.device = "cpu", progress: bool = False):
        check_settings(settings)
        self.settings, self.device, self.progress = settings, torch.device(device), progress
        self.count = sample_count(settings)
        self.spaces = load_spaces(settings, self.device)
        for space in self.spaces.values():  # sets too small for KID: refused before any sampling
            capped_subset_size(SUBSET_SIZE, len(space.real), self.count)
        self.snapshot_space = self.load_snapshot_space()
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hmogbench-score")
        self.pending: list[Future] = []
        self.kept: list[Path] = []

    def log(self, message: str) -> None:
        print(f"[evaluate] {message}", flush=True)

    def paths(self, cfg, pattern: str, **fields) -> Path:
        return Path(pattern.format(dataset=cfg.dataset, model=cfg.model, **fields))

    def load_snapshot_space(self) -> LoadedSpace | None:
        """The space of the snapshots' scores, with as many real features as each snapshot has samples (the
        first ``over_training.count``, at most the job's count); None without ``over_training``."""
        over = self.settings.over_training
        if over is None:
            return None
        space = self.spaces.get(over.space) or load_spaces(self.settings, self.device, (over.space,))[over.space]
        space = space.first(min(over.count, self.count))
        capped_subset_size(SUBSET_SIZE, len(space.real), len(space.real))  # too few for KID: refused here
        return space

    def run(self, run: str | Path) -> None:
        """Score run's snapshots if asked (``over_training``), then its generator (or, with ``select='best'``,
        its best snapshot): sampled once if any record of it is missing, then features and scores per space."""
        self.raise_failed()
        selected = None
        if self.settings.over_training is not None:
            run, selected = self.over_training(run)
        G, cfg = load_generator(run, self.device)
        sha256, z_seed = file_digest(generator_path(run), "sha256"), cfg.seed
        todo = {}
        for name, space in self.spaces.items():
            out = self.paths(cfg, self.settings.out, space=name, seed=cfg.seed)
            if is_current(out, space, sha256, self.count, z_seed, self.settings):
                self.kept.append(out)
            else:
                todo[name] = out
        if not todo and not (self.settings.samples_out or self.settings.features_out or self.settings.grid_out):
            self.log(f"{cfg.model} seed {cfg.seed}: every record is current, kept")
            return
        images, source = self.draw(run, G, cfg, self.count, self.settings.count, sha256, f"{cfg.model} seed {cfg.seed}")
        if selected is not None:
            source["selected"] = selected
        if self.settings.samples_out:
            self.keep_samples(self.paths(cfg, self.settings.samples_out, seed=cfg.seed), images, source)
        if self.settings.grid_out:
            save_sample_grid(as_uint8(images[:64]), self.paths(cfg, self.settings.grid_out, seed=cfg.seed),
                             f"{cfg.dataset} {cfg.model} seed {cfg.seed}: the first 64 evaluation samples")
        batch = as_batch(images, f"{run}: samples")
        for name, space in self.spaces.items():
            if name in todo or self.settings.features_out:
                self.features(run, cfg, name, space, batch, source, todo.get(name))

    def draw(self, run, G, cfg, count: int, asked: int, sha256: str, what: str) -> tuple[np.ndarray, dict]:
        """``count`` samples of G, z seeded with the run's seed (``asked``: the count asked for, as the sidecar
        records it), and their sidecar (``samples_record``); ``what`` labels the log line."""
        start = time.perf_counter()
        images = sample_images(G, count, cfg.seed, batch_size=self.settings.sample_batch_size,
                               device=self.device, progress=self.progress, pixels=self.settings.fake_pixels)
        source = samples_record(run, cfg, images, cfg.seed, {
            "run": str(run), "count": asked, "at_most_like": self.settings.at_most_like,
            "seed": cfg.seed, "batch_size": self.settings.sample_batch_size}, self.device, generator_sha256=sha256)
        self.log(f"{what}: {len(images)} samples (z seed {cfg.seed}) in {time.perf_counter() - start:.1f} s")
        return images, source

    def extract(self, name: str, space: LoadedSpace, images: torch.Tensor, what: str) -> np.ndarray:
        """The features (N, D) of ``images`` (``as_batch``) in ``space``; ``what`` labels the log line."""
        start = time.perf_counter()
        fake = extract_features(images, space.extractor, batch_size=self.settings.feature_batch_size,
                                progress=self.progress, desc=f"{name} features")
        self.log(f"{what}: {name} features {fake.shape[0]} x {fake.shape[1]} in {time.perf_counter() - start:.1f} s")
        return fake

    def features(self, run, cfg, name: str, space: LoadedSpace, images: torch.Tensor, source: dict,
                 out: Path | None) -> None:
        fake = self.extract(name, space, images, f"{cfg.model} seed {cfg.seed}")
        if self.settings.features_out:
            save_features(self.paths(cfg, self.settings.features_out, space=name, seed=cfg.seed), fake,
                          {**space_meta(space.extractor), "images": f"{run} (samples in memory)",
                           "images_shape": list(images.shape), "source": source})
        if out is not None:
            config = record_config(self.settings, space, str(run), self.count)
            self.pending.append(self.pool.submit(self.score, space, fake, source, config, out, cfg))

    def record(self, space: LoadedSpace, fake: np.ndarray, source: dict, config: dict) -> dict:
        """The metrics record of fake features (N, D) against ``space``'s real ones (``source``: the samples'
        sidecar, ``config``: ``record_config``)."""
        result = scored_against_real(space.real, space.real_meta, fake, source, k=self.settings.k,
                                     rule=self.settings.knn_rule, device=self.device,
                                     real_statistics=space.real_statistics)
        return {**result, "real": str(space.real_path), "fake": config["fake"],
                "provenance": provenance(config, self.device)}

    def score(self, space: LoadedSpace, fake: np.ndarray, source: dict, config: dict, out: Path, cfg) -> Path:
        """The record of one (space, seed), written atomically (runs on the worker thread)."""
        start = time.perf_counter()
        record = self.record(space, fake, source, config)
        write_json_atomic(out, record)
        self.log(f"{cfg.model} seed {cfg.seed}: {summary(record)} ({time.perf_counter() - start:.1f} s) -> {out}")
        if record["kid"]["warning"]:
            self.log(f"{cfg.model} seed {cfg.seed}: KID warning: {record['kid']['warning']}")
        return out

    def over_training(self, run: str | Path) -> tuple[str | Path, dict | None]:
        """Score every snapshot of ``run`` (``over_training``: its space and count) into the run's over-training
        file; records already there and current are kept. Returns what the normal records score: (``run``, None),
        or with ``select='best'`` (the snapshot of lowest FD, ``over_training.selection``)."""
        over = self.settings.over_training
        _, cfg = load_generator(run, "cpu")
        folder = generator_path(run).parent
        snapshots = snapshot_files(folder)
        if not snapshots:
            raise FileNotFoundError(f"{folder}: no generator snapshots (snapshots/step<N>.pt) to score over training; "
                                    "train with eval_every set (`hmogbench train --set eval_every=N`)")
        out = self.paths(cfg, over.out, space=over.space, seed=cfg.seed)
        old = read_over_training(out)
        parts = {step: self.snapshot(step, path, cfg, old.get(step)) for step, path in snapshots}
        if set(old) == set(parts) and not any(isinstance(p, Future) for p in parts.values()):
            self.kept.append(out)
            self.log(f"{cfg.model} seed {cfg.seed}: the records of its {len(parts)} snapshots are current, kept")
        else:  # after the snapshots' scores: the worker runs its tasks in order
            self.pending.append(self.pool.submit(self.write_snapshot_records, out, parts))
        if over.select == "final":
            return run, None
        chosen = selection([p.result() if isinstance(p, Future) else p for p in parts.values()], over)
        self.log(f"{cfg.model} seed {cfg.seed}: step {chosen['step']} has the lowest FD ({over.space}) of steps "
                 f"{chosen['steps']}; its snapshot is scored (select: best)")
        return dict(snapshots)[chosen["step"]], chosen

    def snapshot(self, step: int, path: Path, cfg, old: dict | None) -> dict | Future:
        """One snapshot's record: ``old`` if current, else its samples and features here and its scores on the
        worker (a Future of the record)."""
        space, over = self.snapshot_space, self.settings.over_training
        sha256, count = file_digest(path, "sha256"), len(space.real)
        if old is not None and record_is_current(old, space, sha256, count, cfg.seed, self.settings):
            return old
        G, snap_cfg = load_generator(path, self.device)
        what = f"{cfg.model} seed {cfg.seed} step {step}"
        images, source = self.draw(path, G, snap_cfg, count, over.count, sha256, what)
        fake = self.extract(over.space, space, as_batch(images, f"{path}: samples"), what)
        config = record_config(self.settings, space, str(path), count)
        return self.pool.submit(lambda: {"step": step, **self.record(space, fake, source, config)})

    def write_snapshot_records(self, out: Path, parts: dict[int, dict | Future]) -> Path:
        """The run's over-training file from its snapshots' records (runs on the worker, after their scores)."""
        records = [p.result() if isinstance(p, Future) else p for p in parts.values()]
        write_over_training(out, records)
        steps = ", ".join(f"{r['step']}: {r['fd']:.4f}" for r in sorted(records, key=lambda r: r["step"]))
        cfg = records[0]["fake_source"]["config"]
        self.log(f"{cfg['model']} seed {cfg['seed']}: {records[0]['fd_name']} over training (step: FD) {steps} "
                 f"-> {out}")
        return out

    def keep_samples(self, path: Path, images: np.ndarray, source: dict) -> None:
        """The samples as `hmogbench sample` writes them: uint8 .npy (N, H, W, C) and its .json sidecar; float
        samples (``fake_pixels='float'``) are kept rounded, round(255 p), and their sidecar says so."""
        if images.dtype != np.uint8:
            images = as_uint8(images)
            source = {**source, "pixels": "uint8", "scored_as": "float", "shape": list(images.shape)}
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.save(fh, images)
        write_json_atomic(path.with_suffix(".json"), source)

    def raise_failed(self) -> None:
        """A scoring error of an earlier seed stops the job before more work (its records stay written)."""
        for future in self.pending:
            if future.done() and future.exception() is not None:
                raise future.exception()

    def wait(self) -> list[Path]:
        """Every record written by this job (the first scoring error, if any, is raised here)."""
        try:
            return [future.result() for future in self.pending]
        finally:
            self.pool.shutdown(wait=True)


def evaluate(runs: list[str | Path], settings: EvaluationSettings, device: str | torch.device = "cpu",
             progress: bool = False) -> tuple[list[Path], list[Path]]:
    """Evaluate every run (a run directory or its generator.pt) -> (records written, records kept)."""
    job = Evaluation(settings, device, progress)
    try:
        for run in runs:
            job.run(run)
    except BaseException:
        job.pool.shutdown(wait=True, cancel_futures=False)  # records already scored are still written
        raise
    return job.wait(), job.kept
