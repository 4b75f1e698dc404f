"""``hmogbench sample`` and ``hmogbench evaluate``: samples of a trained run, and the workflow's evaluation of runs."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..runtime.device import DEVICE_HELP


def add_sample_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("sample", help="draw images from a trained generator into a uint8 .npy (N x H x W x C)")
    p.add_argument("run", help="run directory (or its generator.pt)")
    p.add_argument("--count", type=int, default=10_000, help="images to draw (thesis: 10,000)")
    p.add_argument("--at-most-like", metavar="REAL",
                   help="draw no more images than the uint8 .npy REAL holds (equal real and fake set sizes)")
    p.add_argument("--seed", type=int, help="seed of z (default: the run's training seed)")
    p.add_argument("--batch-size", type=int, default=100, help="generator batch (thesis: 100)")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--out", required=True, help="output .npy; a JSON sidecar (same name, .json) records the run")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_sample)
    return p


def cmd_sample(args: argparse.Namespace) -> int:
    import numpy as np

    from ..data.images import image_count
    from ..runtime.device import prepare_device
    from ..runtime.provenance import atomic_path, write_json_atomic
    from ..training.sampling import load_generator, sample_images, samples_record

    device = str(prepare_device(args.device))
    count = args.count
    if args.at_most_like:
        count = min(count, image_count(args.at_most_like))
    if count < 1:
        raise ValueError(f"--count must be at least 1, got {count}")
    G, cfg = load_generator(args.run, device)
    seed = cfg.seed if args.seed is None else args.seed
    images = sample_images(G, count, seed, batch_size=args.batch_size, device=device, progress=not args.no_progress)
    out = Path(args.out)
    with atomic_path(out) as tmp, open(tmp, "wb") as fh:
        np.save(fh, images)
    config = {"run": args.run, "count": args.count, "at_most_like": args.at_most_like, "seed": seed,
              "batch_size": args.batch_size}
    write_json_atomic(out.with_suffix(".json"), samples_record(args.run, cfg, images, seed, config, device))
    print(f"{cfg.model} seed {cfg.seed}: {count} samples (z seed {seed}) -> {out}")
    return 0


def space_files(values: list[str], option: str) -> dict[str, str]:
    """``SPACE=FILE`` words -> {space: file}; a word without '=' is a one-line error naming the option."""
    pairs = {}
    for value in values:
        space, sep, path = value.partition("=")
        if not sep or not space or not path:
            raise ValueError(f"{option} {value!r}: expected SPACE=FILE, e.g. fid-inception=weights.pth")
        pairs[space] = path
    return pairs


def over_training_settings(args: argparse.Namespace):
    """The ``--over-training-*`` and ``--select`` options as ``OverTrainingSettings`` (None without
    ``--over-training-out``, where the others are refused)."""
    from .over_training import OverTrainingSettings

    if args.over_training_out is None:
        given = [f"--{name}" for name, value in (("over-training-space", args.over_training_space),
                 ("over-training-count", args.over_training_count), ("select", args.select)) if value is not None]
        if given:
            raise ValueError(f"{' and '.join(given)}: only with --over-training-out (scoring the runs' snapshots)")
        return None
    return OverTrainingSettings(out=args.over_training_out, space=args.over_training_space or args.spaces[0],
                                count=1000 if args.over_training_count is None else args.over_training_count,
                                select=args.select or "final")


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ..runtime.device import prepare_device
    from .job import EvaluationSettings, evaluate

    over_training = over_training_settings(args)
    settings = EvaluationSettings(
        spaces=tuple(args.spaces), real_features=args.real_features, out=args.out, count=args.count,
        at_most_like=args.at_most_like, weights=space_files(args.weights, "--weights"), precision=args.precision,
        channels_last=args.channels_last, compile_mode=args.compile, feature_batch_size=args.batch_size,
        sample_batch_size=args.sample_batch_size, fake_pixels=args.fake_pixels, k=args.k, knn_rule=args.knn_rule,
        samples_out=args.samples_out, features_out=args.features_out, grid_out=args.grid_out,
        over_training=over_training)
    unknown = set(settings.weights) - set(settings.spaces) - {over_training.space if over_training else None}
    if unknown:
        raise ValueError(f"--weights names {sorted(unknown)}, not among --spaces {list(settings.spaces)} "
                         "(or --over-training-space)")
    device = prepare_device(args.device)
    written, kept = evaluate(args.runs, settings, device, progress=not args.no_progress)
    print(f"evaluate: {len(written)} records written, {len(kept)} already current and kept "
          f"({len(args.runs)} runs x {len(settings.spaces)} spaces)")
    return 0


def add_evaluate_parser(sub: argparse._SubParsersAction) -> None:
    from ..metrics.cli import add_speed_options
    from ..metrics.knn import RULES
    from ..metrics.spaces import SPACES
    from ..training.sampling import FAKE_PIXELS

    p = sub.add_parser(
        "evaluate", help="sample, features and scores of trained runs in one process (the workflow's evaluation)",
        description="For each RUN: draw --count samples (z seeded with the run's seed), take their features in "
                    "every space of --spaces and score them against that space's real feature file (FD, KID, "
                    "k-NN), one metrics JSON per space and run, as `hmogbench sample`, `features` and `score "
                    "--precomputed` would. Records that are already current are kept. Patterns use {space}, "
                    "{seed}, {dataset} and {model} (dataset and model from the run's config). With "
                    "--over-training-out, each run's generator snapshots (training with eval_every) are scored "
                    "too, in one space with fewer samples: FD over training.")
    p.add_argument("runs", nargs="+", metavar="RUN", help="run directories (or their generator.pt)")
    p.add_argument("--spaces", nargs="+", required=True, choices=list(SPACES), help="feature spaces")
    p.add_argument("--real-features", required=True, metavar="PATTERN",
                   help="the real set's feature file per space (`hmogbench features`), e.g. "
                        "results/features/{space}/mnist/real.npy")
    p.add_argument("--out", required=True, metavar="PATTERN",
                   help="metrics JSON per space and seed, e.g. results/metrics/{space}/{dataset}/{model}/seed{seed}.json")
    p.add_argument("--count", type=int, default=10_000, help="samples per run (thesis: 10,000)")
    p.add_argument("--at-most-like", metavar="REAL", help="no more samples than the uint8 .npy REAL holds")
    p.add_argument("--weights", action="append", default=[], metavar="SPACE=FILE",
                   help="weights file of an Inception space (default: as for `hmogbench score`); repeatable")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--batch-size", type=int, default=100, help="feature network batch")
    p.add_argument("--sample-batch-size", type=int, default=100, help="generator batch (thesis: 100)")
    p.add_argument("--fake-pixels", choices=list(FAKE_PIXELS), default="float",
                   help="float: the generator's output in [0, 1] goes to the feature networks unrounded (the "
                        "authors' evaluation; default); uint8: rounded first, as `hmogbench sample` files are")
    add_speed_options(p)
    p.add_argument("--k", type=int, default=5, help="neighbours in the k-NN score (thesis: 5)")
    p.add_argument("--knn-rule", default="soft", choices=RULES,
                   help="k-NN score rule, as for `hmogbench score` (default: soft, the thesis's)")
    p.add_argument("--samples-out", metavar="PATTERN",
                   help="also keep the samples (uint8 .npy + .json as `hmogbench sample` writes), e.g. "
                        "results/samples/{dataset}/{model}/seed{seed}.npy")
    p.add_argument("--features-out", metavar="PATTERN", help="also keep the fake features (.npy + .json)")
    p.add_argument("--grid-out", metavar="PATTERN",
                   help="an 8 x 8 PNG of each run's first 64 evaluation samples, e.g. "
                        "results/grids/{dataset}/{model}/seed{seed}.png")
    add_over_training_options(p, SPACES)
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_evaluate)


def add_over_training_options(p: argparse.ArgumentParser, spaces) -> None:
    """``hmogbench evaluate``'s options for FD over training (``evaluation.over_training``)."""
    from .over_training import SELECT

    p.add_argument("--over-training-out", metavar="PATTERN",
                   help="also score each run's generator snapshots (snapshots/step<N>.pt, kept by training with "
                        "eval_every set): one JSON list of records per run, each with its step, e.g. "
                        "results/metrics_over_training/{space}/{dataset}/{model}/seed{seed}.json")
    p.add_argument("--over-training-space", choices=list(spaces),
                   help="the snapshots' feature space (default: the first of --spaces)")
    p.add_argument("--over-training-count", type=int, metavar="N",
                   help="samples per snapshot, scored against the first N real features (default 1000; at most "
                        "--count)")
    p.add_argument("--select", choices=SELECT,
                   help="the generator of a run that the --out records score: final (default) or best, its "
                        "snapshot of lowest FD over training (needs --over-training-out)")


def add_example_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "example", help="collect a small evaluated grid into a committed example folder (table, curve, grids, "
                        "provenance)",
        description="Collect the records of a small grid trained with eval_every (config/demo.yaml) into one "
                    "folder: fid_over_steps.csv (a row per scored generator), README.md and index.html (the "
                    "table, the pictures, the provenance), fid_over_steps.png, each run's 8 x 8 sample grid and "
                    "provenance.json. The workflow's `demo` target runs it.")
    p.add_argument("--over-training", nargs="+", required=True, metavar="FILE",
                   help="over-training files, one per run (`hmogbench evaluate --over-training-out`)")
    p.add_argument("--metrics", nargs="+", required=True, metavar="FILE",
                   help="the runs' final metrics files, every space (`hmogbench evaluate --out`)")
    p.add_argument("--grids", nargs="+", required=True, metavar="PNG",
                   help="the runs' sample grids, results/grids/<set>/<model>/seed<N>.png")
    p.add_argument("--runs", nargs="+", required=True, metavar="DIR", help="the run directories (with run.json)")
    p.add_argument("--configs", nargs="+", required=True, metavar="FILE", help="the workflow config files used")
    p.add_argument("--command", required=True, help="the command that regenerates the folder (shown in it)")
    p.add_argument("--title", required=True, help="one-line title of the example")
    p.add_argument("--out", required=True, help="the example folder, e.g. results/examples/demo-mnist")
    p.set_defaults(func=cmd_example)


def cmd_example(args: argparse.Namespace) -> int:
    from .example import ExampleInputs, write_example

    inputs = ExampleInputs(args.over_training, args.metrics, args.grids, args.runs, args.configs, args.command,
                           args.title)
    for path in write_example(inputs, args.out):
        print(path)
    return 0
