"""``hmogbench tables DATASET METRICS...``: the data set's thesis tables regenerated, and their diff."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..registry.datasets import dataset_names, in_thesis
from ..workflow.paths import METRICS_FILE, METRICS_ROOT, TABLE, TABLES_ROOT, fill


def add_tables_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "tables", help="regenerate a data set's thesis tables from metrics files and diff them against the thesis",
        description="Aggregate metrics files (from `hmogbench evaluate`, as the workflow runs it, or "
                    "`hmogbench score --precomputed`) over seeds into the two "
                    "thesis tables of DATASET, written as OUT_DIR/DATASET.tex (booktabs), .md and .diff.md (the diff "
                    "against the thesis: per-cell agreement with Welch p-values and Holm's verdicts, rank agreement, "
                    "the thesis's claims with their shares of resamples over seeds and tests; docs/statistics.md), "
                    "the .md files as self-contained HTML pages .html (the tables, then the LaTeX as text) and "
                    ".diff.html, and the extended tables .extended.{md,tex,html} (the thesis's rows with FD, KID, 5-NN "
                    "and precision, recall, density, coverage).")
    p.add_argument("dataset", help=", ".join(dataset_names(in_thesis)))
    p.add_argument("metrics", nargs="*", help="metrics JSON files (default: every file under --metrics-dir)")
    p.add_argument("--metrics-dir", default=METRICS_ROOT,
                   help=f"where to look when no files are given: <dir>/{METRICS_FILE} (default %(default)s)")
    p.add_argument("--out-dir", default=TABLES_ROOT, help="default %(default)s")
    p.set_defaults(func=cmd_tables)
    return p


def find_metrics(metrics_dir: str | Path, dataset: str) -> list[Path]:
    """Every ``<metrics_dir>/<space>/<dataset>/<model>/seed<N>.json``; none is an error saying where it looked."""
    pattern = fill(METRICS_FILE, space="*", dataset=dataset, model="*", seed="*")
    files = sorted(Path(metrics_dir).glob(pattern))
    if not files:
        where = Path(metrics_dir) / pattern
        missing = "" if Path(metrics_dir).is_dir() else f" ({metrics_dir} does not exist)"
        target = fill(TABLE, dataset=dataset, ext="md")
        raise FileNotFoundError(f"no metrics files for {dataset}: none match {where}{missing}; `hmogbench evaluate "
                                f"RUN ... --out PATTERN` writes them (the workflow: snakemake {target}), "
                                f"or name them: hmogbench tables {dataset} FILE ...")
    return files


def cmd_tables(args: argparse.Namespace) -> int:
    from .grid import thesis_tables
    from .write import write_tables

    thesis_tables(args.dataset)  # validates the name
    files = args.metrics or find_metrics(args.metrics_dir, args.dataset)
    written = write_tables(args.dataset, files, args.out_dir)
    for path in written:
        print(path)
    return 0
