"""``hmogbench data check | prepare | download | fixture``."""

from __future__ import annotations

import argparse

from tabulate import tabulate

from ..registry.datasets import dataset_names, has_fixture
from ..workflow.paths import DATA_ROOT, FIXTURE_ROOT
from .catalog import get_spec

RAW_DIR = "resources/raw"


def cmd_check(args: argparse.Namespace) -> int:
    from .check import check_raw

    statuses = check_raw(args.raw_dir, args.datasets or None)
    rows = [(s.dataset, s.source or "-", "ok" if s.ok else "MISSING" if s.source is None else "INVALID", s.detail)
            for s in statuses]
    print(tabulate(rows, headers=("set", "source", "status", "details"), tablefmt="simple", maxcolwidths=[None] * 3 + [90]))
    return 0 if all(s.ok for s in statuses) else 1


def cmd_prepare(args: argparse.Namespace) -> int:
    from .prepare import prepare_dataset

    for name in args.datasets:
        out = f"{args.out}/{name}"
        manifest = prepare_dataset(name, args.raw_dir, out, source=args.source, seed=args.seed,
                                   test_count=args.test_count, workers=args.workers, progress=not args.no_progress)
        split, source = manifest["split"], manifest["source"]
        flags = " [SYNTHETIC FIXTURE]" if source.get("fixture") else " [subset]" if source.get("subset") else ""
        print(f"{name}: {split['train_count']:,} train / {split['test_count']:,} test from {source['name']}{flags} "
              f"-> {out}")
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    from .download import download

    for path in download(args.dataset, args.raw_dir):
        print(f"{args.dataset}: {path}")
    return 0


def cmd_fixture(args: argparse.Namespace) -> int:
    from .fixtures import make_fixture

    print(f"{args.dataset}: synthetic fixture ({args.count} images) -> {make_fixture(args.dataset, args.raw_dir, args.count)}")
    return 0


def add_data_parser(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("data", help="raw data: check, prepare, download (opt-in), synthetic fixtures")
    actions = data.add_subparsers(dest="action", required=True)
    names = list(dataset_names())

    p = actions.add_parser("check", help="for each set: raw files present and valid?")
    p.add_argument("datasets", nargs="*", metavar="SET", help=f"default: all ({', '.join(names)})")
    p.add_argument("--raw-dir", default=RAW_DIR, help=f"raw-data directory (default {RAW_DIR})")
    p.set_defaults(func=cmd_check)

    p = actions.add_parser("prepare", help="raw files -> OUT/SET/{train,test}.npy + manifest.json")
    p.add_argument("datasets", nargs="+", choices=names, metavar="SET", help=", ".join(names))
    p.add_argument("--raw-dir", default=RAW_DIR, help=f"raw-data directory (default {RAW_DIR})")
    p.add_argument("--out", default=DATA_ROOT, help="output root (default %(default)s)")
    p.add_argument("--source", help="use this raw layout (default: the first present; see `data check`)")
    p.add_argument("--seed", type=int, default=2019, help="split seed (default 2019)")
    p.add_argument("--test-count", type=int, help="held-out images for randomly split sets (default: thesis 5.1)")
    p.add_argument("--workers", type=int, help="decoding threads (default: CPU count, at most 8)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_prepare)

    p = actions.add_parser("download", help="fetch raw files from their public URLs (explicit; never automatic)")
    online = [name for name in names if get_spec(name).downloads]
    p.add_argument("dataset", choices=names, metavar="SET",
                   help=f"the set to fetch: {', '.join(online)} (the others by hand: `hmogbench data check SET` "
                        "says where from)")
    p.add_argument("--raw-dir", default=RAW_DIR, help=f"raw-data directory to write SET's files into (default "
                                                      f"{RAW_DIR})")
    p.set_defaults(func=cmd_download)

    p = actions.add_parser("fixture", help="write a small SYNTHETIC stand-in in a set's official layout")
    p.add_argument("dataset", choices=dataset_names(has_fixture), metavar="SET",
                   help=", ".join(dataset_names(has_fixture)))
    p.add_argument("--raw-dir", default=FIXTURE_ROOT,
                   help="raw-data directory to write the fixture into (default %(default)s, the workflow's)")
    p.add_argument("--count", type=int, default=60, help="synthetic images to write (default %(default)s)")
    p.set_defaults(func=cmd_fixture)
