"""``hmogbench figures RUN_DIR --out DIR``: the interpretability figures of a trained ME/HME model."""

from __future__ import annotations

import argparse

from ..device import DEVICE_HELP


def add_figures_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "figures", help="interpretability figures of a trained ME/HME model (thesis 5.6, paper IV.C)",
        description="Node and leaf average responses, gate covariance/correlation with a block-diagonality "
                    "score, per-leaf samples, and sample grids with and without truncation, for the ME or HME "
                    "checkpoint RUN (a run directory or its generator.pt). Writes PNGs, figures.json and "
                    "figures.md into OUT.")
    p.add_argument("run", help="run directory (holding generator.pt) or a generator.pt file")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--samples", type=int, default=500, help="M samples for the node averages (thesis: 500)")
    p.add_argument("--draws", type=int, default=10_000,
                   help="z draws for gate statistics, top-gate samples and grids (thesis: 10,000)")
    p.add_argument("--top", type=int, default=5, help="samples per leaf from its most likely z (thesis: 5)")
    p.add_argument("--grid", type=int, default=64, help="images per sample grid (default 64)")
    p.add_argument("--max-depth", type=int, default=5,
                   help="levels of the tree drawn in node_responses.png (default 5: 32 bottom nodes)")
    p.add_argument("--permutations", type=int, default=1000, help="random leaf orders for the block-score baseline")
    p.add_argument("--seed", type=int, default=2019, help="seed of the samples' z (the draws use seed + 1)")
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_figures)
    return p


def cmd_figures(args: argparse.Namespace) -> int:
    from ..device import prepare_device
    from .report import make_figures

    device = str(prepare_device(args.device))
    record = make_figures(args.run, args.out, samples=args.samples, draws=args.draws, top=args.top,
                          seed=args.seed, grid=args.grid, max_depth=args.max_depth,
                          permutations=args.permutations, batch_size=args.batch_size, device=device,
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
