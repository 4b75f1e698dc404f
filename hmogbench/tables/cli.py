"""``hmogbench tables DATASET METRICS...``: the data set's thesis tables regenerated, and their diff."""

from __future__ import annotations

import argparse
from pathlib import Path



def add_tables_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "tables", help="regenerate a data set's thesis tables from metrics files and diff them against the thesis",
        description="Aggregate metrics files (from `hmogbench score --precomputed`) over seeds into the two "
                    "thesis tables of DATASET, written as OUT_DIR/DATASET.tex (booktabs), .md and .diff.md.")
    p.add_argument("dataset", help="mnist, fashion-mnist, celeba, utzap50k or flowers")
    p.add_argument("metrics", nargs="*", help="metrics JSON files (default: every file under --metrics-dir)")
    p.add_argument("--metrics-dir", default="results/metrics",
                   help="where to look when no files are given: <dir>/<space>/<dataset>/<model>/seed<N>.json")
    p.add_argument("--out-dir", default="tables")
    p.set_defaults(func=cmd_tables)
    return p


def cmd_tables(args: argparse.Namespace) -> int:
    from .grid import thesis_tables
    from .write import write_tables

    thesis_tables(args.dataset)  # validates the name
    files = args.metrics or sorted(Path(args.metrics_dir).glob(f"*/{args.dataset}/*/seed*.json"))
    written = write_tables(args.dataset, files, args.out_dir)
    for path in written:
        print(path)
    return 0
