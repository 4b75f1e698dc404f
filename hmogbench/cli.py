"""Command line: ``hmogbench params | toy | train | sample | evaluate | data | score | features | tables | figures``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tabulate import tabulate

from .device import DEVICE_HELP


def cmd_params(args: argparse.Namespace) -> int:
    from .params import parameter_rows

    rows = parameter_rows()
    table = [(r.table, r.dataset, r.model, f"{r.image_size}x{r.image_size}", f"{r.count:,}", r.ours, r.printed,
              "yes" if r.matches else "NO") for r in rows]
    headers = ("table", "dataset", "model", "image", "our count", "ours (thesis format)", "printed", "match")
    print(tabulate(table, headers=headers, tablefmt=args.format, disable_numparse=True))
    bad = sum(not r.matches for r in rows)
    print(f"\n{len(rows) - bad} of {len(rows)} rows match the printed parameter counts "
          "(first-layer head only; counts truncated as the thesis prints them).")
    return 1 if bad else 0


def cmd_toy(args: argparse.Namespace) -> int:
    import json

    from .provenance import write_text_atomic
    from .toy.experiment import TOY_DATASETS, TOY_MODELS, ToyConfig, run_toy

    out = Path(args.out)
    for dataset in args.datasets:
        for model in args.models:
            cfg = ToyConfig(dataset=dataset, model=model, epochs=args.epochs, seed=args.seed)
            print(f"[toy] {dataset} {model}: {cfg.steps} steps -> {out / dataset / model}", flush=True)
            run_toy(cfg, out / dataset / model, progress=not args.no_progress)

    rows = []  # every toy result under --out, not only this invocation's
    for dataset in TOY_DATASETS:
        for model in TOY_MODELS:
            path = out / dataset / model / "metrics.json"
            if not path.exists():
                continue
            m = json.loads(path.read_text())
            cov = m.get("coverage")
            rows.append((dataset, model, m["steps"], m["provenance"]["config"]["seed"],
                         f"{cov['modes_covered']}/{cov['modes_total']}" if cov else "-",
                         f"{100 * cov['quality_share']:.1f}" if cov else "-",
                         " ".join(map(str, m["samples_per_generator"])), f"{dataset}/{model}/samples.png"))
    headers = ("data", "model", "G steps", "seed", "modes covered", "% samples within 3σ", "samples per generator",
               "figure")
    per_epoch = ToyConfig(epochs=1).steps
    summary = ("# Toy experiments (thesis 5.3, paper IV.A)\n\n"
               f"{per_epoch} G steps per epoch (the authors ran 300 epochs = {300 * per_epoch:,} steps). Mode coverage on the mixture of five Gaussians: a mode is covered when at least 1% of "
               "2,500 samples lie within 3 standard deviations of it.\n\n"
               + tabulate(rows, headers=headers, tablefmt="github") + "\n")
    write_text_atomic(out / "summary.md", summary)
    print("\n" + summary)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    import dataclasses

    from .config import TrainConfig, parse_override
    from .device import prepare_device
    from .images import load_training_images
    from .progress_images import tensorboard
    from .training import seed_dir, train_from_config, train_seeds

    overrides = dict(parse_override(o) for o in args.set)
    cfg = TrainConfig.from_file(args.config, **overrides) if args.config else TrainConfig.from_dict(overrides, "--set")
    cfg = dataclasses.replace(cfg, device=str(prepare_device(cfg.device)))  # 'auto' -> the device it ran on
    with tensorboard(args.tensorboard):  # None: no logs; without the package: an error before any training
        data = load_training_images(args.data)
        if args.seeds:
            infos = train_seeds(cfg, args.seeds, data, args.out, progress=not args.no_progress,
                                batch=not args.no_batch, batch_mode=args.batch_mode, compile_mode=args.compile)
        else:
            info = train_from_config(cfg, data, args.out, progress=not args.no_progress)
    if args.seeds:
        for seed, info in zip(args.seeds, infos):
            how = (f"batched with seeds {info['batch']['seeds']} ({info['batch']['mode']})" if info["batch"]["batched"]
                   else f"alone: {info['batch'].get('reason', '')}")
            print(f"{cfg.model} seed {seed}: {info['status']} after {info['steps_done']} generator steps, {how} "
                  f"-> {seed_dir(args.out, seed)}")
        return 0
    print(f"{cfg.model}: {info['status']} after {info['steps_done']} generator steps -> {args.out}")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    import numpy as np

    from .device import prepare_device
    from .provenance import atomic_path, write_json_atomic
    from .sampling import load_generator, sample_images, samples_record

    device = str(prepare_device(args.device))
    count = args.count
    if args.at_most_like:
        count = min(count, len(np.load(args.at_most_like, mmap_mode="r")))
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


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .device import prepare_device
    from .evaluation import EvaluationSettings, evaluate

    settings = EvaluationSettings(
        spaces=tuple(args.spaces), real_features=args.real_features, out=args.out, count=args.count,
        at_most_like=args.at_most_like, weights=space_files(args.weights, "--weights"), precision=args.precision,
        channels_last=args.channels_last, compile_mode=args.compile, feature_batch_size=args.batch_size,
        sample_batch_size=args.sample_batch_size, fake_pixels=args.fake_pixels, k=args.k, knn_rule=args.knn_rule,
        samples_out=args.samples_out, features_out=args.features_out, grid_out=args.grid_out)
    unknown = set(settings.weights) - set(settings.spaces)
    if unknown:
        raise ValueError(f"--weights names {sorted(unknown)}, not among --spaces {list(settings.spaces)}")
    device = prepare_device(args.device)
    written, kept = evaluate(args.runs, settings, device, progress=not args.no_progress)
    print(f"evaluate: {len(written)} records written, {len(kept)} already current and kept "
          f"({len(args.runs)} runs x {len(settings.spaces)} spaces)")
    return 0


def add_evaluate_parser(sub: argparse._SubParsersAction) -> None:
    from .metrics.cli import add_speed_options
    from .metrics.knn import RULES
    from .metrics.spaces import SPACES
    from .sampling import FAKE_PIXELS

    p = sub.add_parser(
        "evaluate", help="sample, features and scores of trained runs in one process (the workflow's evaluation)",
        description="For each RUN: draw --count samples (z seeded with the run's seed), take their features in "
                    "every space of --spaces and score them against that space's real feature file (FD, KID, "
                    "k-NN), one metrics JSON per space and run, as `hmogbench sample`, `features` and `score "
                    "--precomputed` would. Records that are already current are kept. Patterns use {space}, "
                    "{seed}, {dataset} and {model} (dataset and model from the run's config).")
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
    p.add_argument("--knn-rule", default="soft", choices=RULES)
    p.add_argument("--samples-out", metavar="PATTERN",
                   help="also keep the samples (uint8 .npy + .json as `hmogbench sample` writes), e.g. "
                        "results/samples/{dataset}/{model}/seed{seed}.npy")
    p.add_argument("--features-out", metavar="PATTERN", help="also keep the fake features (.npy + .json)")
    p.add_argument("--grid-out", metavar="PATTERN",
                   help="an 8 x 8 PNG of each run's first 64 evaluation samples, e.g. "
                        "results/grids/{dataset}/{model}/seed{seed}.png")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_evaluate)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="hmogbench", description=__doc__)
    parser.add_argument("--version", action="version", version=f"hmogbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("params", help="head parameter counts vs the 'Param.' column of thesis Tables 5.3-5.12")
    p.add_argument("--format", default="github", help="tabulate table format (default: github)")
    p.set_defaults(func=cmd_params)

    from .toy.experiment import TOY_DATASETS, TOY_MODELS

    p = sub.add_parser("toy", help="toy experiments: train, figures, mode coverage (no downloads)")
    p.add_argument("--datasets", nargs="+", default=list(TOY_DATASETS), choices=TOY_DATASETS)
    p.add_argument("--models", nargs="+", default=list(TOY_MODELS))
    p.add_argument("--epochs", type=int, default=300, help="epochs of 156 G steps (authors: 300)")
    p.add_argument("--seed", type=int, default=2019)
    p.add_argument("--out", default="results/toy")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_toy)

    p = sub.add_parser("train", help="train one image model (checkpoints; resumes when re-run)")
    p.add_argument("--config", help="YAML/JSON file of TrainConfig keys")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key")
    p.add_argument("--data", default="mnist-5k", help="'mnist-5k' (embedded), a prepared set (name or results/data/SET), or a uint8 .npy/.npz array")
    p.add_argument("--out", required=True, help="run directory (with --seeds: the folder of the seed<N>/ run directories)")
    p.add_argument("--seeds", type=int, nargs="+", metavar="SEED",
                   help="train one run per seed into OUT/seed<SEED>/ (overrides the config's seed); FC/ME/HME "
                        "seeds train together as one batched model unless --no-batch")
    p.add_argument("--no-batch", action="store_true",
                   help="with --seeds: train the seeds one after the other instead of as one batched model")
    p.add_argument("--batch-mode", choices=("auto", "vmap", "loop"), default="auto",
                   help="batched seeds: vmap (fast; float-tolerance equal to seeds alone) or loop (bit-identical); "
                        "auto: vmap on CUDA, loop on the CPU")
    p.add_argument("--compile", metavar="MODE", default=None,
                   help="batched seeds (vmap): torch.compile the losses with this mode, e.g. default or "
                        "reduce-overhead (CUDA graphs); off by default")
    p.add_argument("--no-progress", action="store_true",
                   help="no bar: a progress line on stdout every progress_every steps (--set progress_every=N, "
                        "default 100) or 60 s, whichever comes first")
    p.add_argument("--tensorboard", metavar="DIR",
                   help="also log each run's losses and samples grid to TensorBoard in DIR/<run directory name>/ "
                        "(needs the tensorboard package)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("sample", help="draw images from a trained generator into a uint8 .npy (N x H x W x C)")
    p.add_argument("run", help="run directory (or its generator.pt)")
    p.add_argument("--count", type=int, default=10_000, help="images to draw (thesis: 10,000)")
    p.add_argument("--at-most-like", metavar="REAL",
                   help="draw no more images than the uint8 .npy REAL holds (equal real and fake set sizes)")
    p.add_argument("--seed", type=int, help="seed of z (default: the run's training seed)")
    p.add_argument("--batch-size", type=int, default=100, help="generator batch (thesis: 100)")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--out", required=True, help="output .npy; a JSON sidecar (same name, .json) records the run")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_sample)

    from .data.cli import add_data_parser
    from .interpret.cli import add_figures_parser
    from .metrics.cli import add_features_parser, add_score_parser
    from .tables.cli import add_tables_parser
    from .report.cli import add_plot_parser

    add_evaluate_parser(sub)
    add_data_parser(sub)
    add_score_parser(sub)
    add_features_parser(sub)
    add_tables_parser(sub)
    add_figures_parser(sub)
    add_plot_parser(sub)
    return parser


# how a command stops on SIGTERM / SIGUSR1 (hmogbench.stop_signals): train at the next generator step, after a
# checkpoint; every other command at once (outputs are written atomically: the exception removes temporary files,
# and evaluate keeps the records already written)
STOPS_AT_ONCE = {"train": False}


def main(argv: list[str] | None = None) -> int:
    from .stop_signals import Interrupted, stop_on_signals

    args = build_parser().parse_args(argv)
    try:
        with stop_on_signals(immediate=STOPS_AT_ONCE.get(args.command, True)):
            return args.func(args)
    except Interrupted as exc:
        print(f"hmogbench {args.command}: {exc}; what was done is kept, a rerun goes on from there", file=sys.stderr)
        return exc.exit_status
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        print(f"hmogbench {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
