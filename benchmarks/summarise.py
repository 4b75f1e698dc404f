"""Markdown tables of the stored benchmark records (results/bench/*.json), and the page docs/performance.md.

    python -m benchmarks.summarise                                  # the tables of every record
    python -m benchmarks.summarise results/bench/train_cuda.json    # of the records named
    python -m benchmarks.summarise --write docs/performance.md      # the page: template + every record
    python -m benchmarks.summarise --check docs/performance.md      # exit 1 if the page is not what --write gives

Nothing is measured here, and nothing imports torch. Each table is read from one JSON file and its heading names
the file, the device, the git commit and the date it was measured. The page is ``performance_template.md`` (the
prose, which does not change with the numbers) with its placeholders filled from the records:
``{{file:NAME}}`` the table of results/bench/NAME; ``{{measured:NAME}}`` "not measured yet" or where it is;
``{{status}}``, ``{{step_bounds}}``, ``{{fid_shift}}``, ``{{grid_headline}}`` sentences computed from the
records; ``{{inventory}}`` every record; ``{{others}}`` the tables of the records no placeholder named.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from tabulate import tabulate

from benchmarks.lib.tables import kind_of, short_commit, table

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path("results/bench")
TEMPLATE = Path(__file__).resolve().with_name("performance_template.md")
PLACEHOLDER = re.compile(r"\{\{(\w+)(?::([\w.\-]+))?\}\}")


def load_records(folder: Path) -> dict[str, dict]:
    """Every ``*.json`` record in ``folder`` by file name; an unreadable one is a one-line error naming it."""
    records = {}
    for path in sorted(folder.glob("*.json")):
        try:
            records[path.name] = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise SystemExit(f"{path}: not a JSON benchmark record ({exc})") from None
        try:
            kind_of(str(path))  # a file of no known kind is refused by name
        except ValueError as exc:
            raise SystemExit(str(exc)) from None
    return records


def status(records: dict, folder: Path) -> str:
    """Whether any GPU figure exists: the records measured on CUDA and any gpu_check.jsonl, or a plain 'none'."""
    gpu = [f"`{name}` ({r['device'].get('name')})" for name, r in records.items()
           if (r.get("device") or {}).get("type") == "cuda"]
    gpu += [f"`{p.relative_to(folder)}`" for p in sorted(folder.rglob("gpu_check.jsonl"))]
    if gpu:
        return f"> **GPU figures**: {', '.join(gpu)}."
    cpus = sorted({r["device"]["name"] for r in records.values() if r.get("device")})
    return ("> **No GPU figure exists yet.** No GPU has been lent to this project's sessions: every record below was "
            f"measured on a CPU ({'; '.join(cpus)}) or computed from FLOP counts, and the paper grid has not been "
            "run on a GPU. The GPU commands are below.")


def _fc_step(grid: dict, size: int) -> dict:
    return next(r for r in grid["runs"] if r["model"] == "FC" and r["image_size"] == size)


def step_bounds(records: dict) -> str:
    """The FLOP lower bound of one FC generator step (batch 128) at the grid's GPU's fp32 and TF32 peaks."""
    grid = records["grid_estimate.json"]
    est = grid["flop_estimate"]
    flops = {s: _fc_step(grid, s)["train_flops_per_run"] / _fc_step(grid, s)["steps"] for s in (32, 64)}
    ms = {p: [f"{flops[s] / est['peaks'][p] * 1e3:.2g} ms" for s in (32, 64)] for p in ("fp32", "tf32")}
    return (f"At batch 128 the FLOP lower bound of one FC generator step on one {est['device']} is {ms['fp32'][0]} at "
            f"32×32 ({flops[32] / 1e12:.2f} TFLOP) and {ms['fp32'][1]} at 64×64 ({flops[64] / 1e12:.2f} TFLOP) at "
            f"the fp32 peak ({est['peaks']['fp32'] / 1e12:g} TFLOP/s; training's precision, TF32 off), "
            f"{ms['tf32'][0]} and {ms['tf32'][1]} at the TF32 tensor-core peak (opt-in).")


def fid_shift(records: dict) -> str:
    """How far each reduced-precision variant moved the FID, against the 0.05 allowed."""
    record = records["features_cpu.json"]
    moves = [f"{name} moved the FID by {v['fid_minus_fp32_fid']:+.3f} ("
             f"{'within' if abs(v['fid_minus_fp32_fid']) <= 0.05 else 'more than'} the 0.05 allowed)"
             for name, v in record["results"].items() if v.get("precision", "fp32") != "fp32"
             and v.get("fid_minus_fp32_fid") is not None]
    return f"On {record['device']['name']} (`features_cpu.json`), " + "; ".join(moves) + "."


def grid_headline(records: dict) -> str:
    """The grid's lower bound at the headline precision's peak, and at the named alternative's."""
    est = records["grid_estimate.json"]["flop_estimate"]
    bounds = {e["precision"]: e for e in est["estimates"] if e["share"] == 1}
    name = est["headline"]
    head = bounds[name]
    others = "".join(f"; at the peaks of the '{p}' rows ({est['precisions'][p]['note'].split(':')[0]}) it would "
                     f"take {e['total_gpu_hours']:.1f}" for p, e in bounds.items() if p != name)
    return (f"Its lower bound on one {est['device']} at the {name} peak ({est['peaks'][name] / 1e12:g} TFLOP/s; the "
            f"'{name}' rows below: {est['precisions'][name]['note'].split(':')[0]}) is **about "
            f"{head['total_gpu_hours']:.0f} GPU-hours** (training {head['train_gpu_hours']:.1f}, evaluation "
            f"{head['eval_gpu_hours']:.2f}){others}.")


def inventory(records: dict) -> str:
    """One row per record: file, kind, device, git commit, date."""
    rows = [[f"`{name}`", kind_of(name), (r.get("device") or {}).get("name", "computed (no measurement)"),
             short_commit(r.get("provenance", {}).get("git_commit")), str(r.get("provenance", {}).get("time_utc"))[:10]]
            for name, r in records.items()]
    return tabulate(rows, headers=["record", "kind", "device", "git", "date"], tablefmt="github")


SENTENCES = {"step_bounds": step_bounds, "fid_shift": fid_shift, "grid_headline": grid_headline,
             "inventory": inventory}


def render(template: str, records: dict, folder: Path) -> str:
    """The page: ``template`` with every placeholder filled from ``records`` (those of ``folder``)."""
    named: set[str] = set()

    def fill(match: re.Match) -> str:
        what, name = match.group(1), match.group(2)
        if what == "file" and name:
            if name not in records:
                raise SystemExit(f"{TEMPLATE.name}: {{{{file:{name}}}}} names {folder / name}, which does not exist")
            named.add(name)
            return table(str(BENCH / name), records[name]).rstrip("\n")
        if what == "measured" and name:
            return f"measured: `{name}` (below)" if name in records else "**not measured yet**"
        if what == "status":
            return status(records, folder)
        if what in SENTENCES:
            return SENTENCES[what](records)
        if what == "others":
            return match.group(0)  # filled last, once every named file is known
        raise SystemExit(f"{TEMPLATE.name}: unknown placeholder {match.group(0)}; expected one of "
                         f"file:NAME, measured:NAME, status, others, {', '.join(SENTENCES)}")

    page = PLACEHOLDER.sub(fill, template)
    others = [table(str(BENCH / name), r).rstrip() for name, r in records.items() if name not in named]
    return page.replace("{{others}}", "### Other records\n\n" + "\n\n".join(others) if others else "").rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="records to print (default: every one)")
    parser.add_argument("--write", metavar="PAGE", type=Path, help="write the page (atomically)")
    parser.add_argument("--check", metavar="PAGE", type=Path, help="exit 1 if PAGE is not what --write gives")
    parser.add_argument("--records", type=Path, default=ROOT / BENCH, help="folder of the records")
    args = parser.parse_args(argv)
    if not (args.write or args.check):
        for path in args.files or sorted(args.records.glob("*.json")):
            print(table(str(path), json.loads(path.read_text(encoding="utf-8"))))
        return 0
    page = render(TEMPLATE.read_text(encoding="utf-8"), load_records(args.records), args.records)
    if args.check:
        current = args.check.read_text(encoding="utf-8") if args.check.exists() else ""
        if current != page:
            print(f"{args.check} is stale: run `python -m benchmarks.summarise --write {args.check}`", file=sys.stderr)
            return 1
        return 0
    from hmogbench.runtime.provenance import write_text_atomic

    write_text_atomic(args.write, page)
    print(f"-> {args.write}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
