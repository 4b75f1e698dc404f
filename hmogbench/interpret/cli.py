"""``hmogbench figures RUN_DIR --out DIR``: the interpretability figures of a trained ME/HME model."""

from __future__ import annotations

import argparse

from ..runtime.device import DEVICE_HELP
from .settings import default_settings, setting_help


def add_figures_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "figures", help="interpretability figures of a trained ME/HME model (thesis 5.6, paper IV.C)",
        description="Node and leaf average responses, gate covariance/correlation with a block-diagonality "
                    "score, per-leaf samples, and sample grids with and without truncation, for the ME or HME "
                    "checkpoint RUN (a run directory or its generator.pt). Writes PNGs, figures.json and "
                    "figures.md into OUT.")
    p.add_argument("run", help="run directory (holding generator.pt) or a generator.pt file")
    p.add_argument("--out", required=True, help="output folder")
    for name, default in default_settings().items():  # --samples ... --seed, defaults in interpret/settings.py
        p.add_argument(f"--{name.replace('_', '-')}", type=int, default=default, help=setting_help()[name])
    p.add_argument("--batch-size", type=int, default=100, help="generator batch (default %(default)s)")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_figures)
    return p


def cmd_figures(args: argparse.Namespace) -> int:
    from ..runtime.device import prepare_device
    from .figures import make_figures

    device = str(prepare_device(args.device))
    settings = {name: getattr(args, name) for name in default_settings()}
    record = make_figures(args.run, args.out, **settings, batch_size=args.batch_size, device=device,
                          progress=not args.no_progress)
    print(f"{record['model']}: {', '.join(record['files'])} -> {args.out}")
    scores = record["block_score"]
    for name in ("covariance", "correlation"):
        score, init = scores[name], scores["at_initialisation"][name]
        if score is None:
            print(f"block score ({name}): none")
        else:
            at_init = f"{init['score']:.3f}" if init is not None else "none"
            print(f"block score ({name}, {scores['mass']} mass; leaf order: {scores['order']}): B = {score['score']:.3f} "
                  f"(at initialisation {at_init}; random order 1, max {score['max_score']:.2f}; "
                  f"z = {score['z']:.1f}, p = {score['p_value']:.4f})")
    return 0
