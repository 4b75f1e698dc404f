"""``hmogbench params``: the heads' parameter counts against the 'Param.' column of thesis Tables 5.3-5.12."""

from __future__ import annotations

import argparse

from tabulate import tabulate


def add_params_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("params", help="head parameter counts vs the 'Param.' column of thesis Tables 5.3-5.12")
    p.add_argument("--format", default="github", help="tabulate table format (default: github)")
    p.set_defaults(func=cmd_params)
    return p


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
