"""``hmogbench train``: one image model, or one per seed (checkpoints; a rerun resumes)."""

from __future__ import annotations

import argparse


def add_train_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("train", help="train one image model (checkpoints; resumes when re-run)")
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
    p.add_argument("--full-length", action="store_true",
                   help="without steps (--set steps=N): train the authors' full length even where it is estimated "
                        "at over an hour on a CPU (refused otherwise; the workflow passes it when steps is null)")
    p.add_argument("--no-progress", action="store_true",
                   help="no bar: a progress line on stdout every progress_every steps (--set progress_every=N, "
                        "default 100) or 60 s, whichever comes first")
    p.add_argument("--tensorboard", metavar="DIR",
                   help="also log each run's losses and samples grid to TensorBoard in DIR/<run directory name>/ "
                        "(needs the tensorboard package)")
    p.set_defaults(func=cmd_train)
    return p


def cmd_train(args: argparse.Namespace) -> int:
    import dataclasses

    from ..data.images import training_data
    from ..runtime.device import prepare_device
    from . import seed_dir, train_from_config, train_seeds
    from .config import TrainConfig, parse_override
    from .preflight import check_training
    from .progress_images import tensorboard

    overrides = dict(parse_override(o) for o in args.set)
    cfg = TrainConfig.from_file(args.config, **overrides) if args.config else TrainConfig.from_dict(overrides, "--set")
    cfg = dataclasses.replace(cfg, device=str(prepare_device(cfg.device)))  # 'auto' -> the device it ran on
    for notice in check_training(cfg, args.out, args.seeds, batch=not args.no_batch, full_length=args.full_length):
        print(notice, flush=True)  # the checks before any data or model is loaded
    with tensorboard(args.tensorboard):  # None: no logs; without the package: an error before any training
        data, data_record = training_data(args.data, declared=cfg.extra.get("train_data"))  # run.json's "data"
        if args.seeds:
            infos = train_seeds(cfg, args.seeds, data, args.out, progress=not args.no_progress,
                                batch=not args.no_batch, batch_mode=args.batch_mode, compile_mode=args.compile,
                                data_record=data_record)
        else:
            info = train_from_config(cfg, data, args.out, progress=not args.no_progress, data_record=data_record)
    if args.seeds:
        for seed, info in zip(args.seeds, infos):
            how = (f"batched with seeds {info['batch']['seeds']} ({info['batch']['mode']})" if info["batch"]["batched"]
                   else f"alone: {info['batch'].get('reason', '')}")
            print(f"{cfg.model} seed {seed}: {info['status']} after {info['steps_done']} generator steps, {how} "
                  f"-> {seed_dir(args.out, seed)}")
        return 0
    print(f"{cfg.model}: {info['status']} after {info['steps_done']} generator steps -> {args.out}")
    return 0
