"""Markdown tables of the stored benchmark figures (results/bench/*.json), as the README shows them.

    python benchmarks/summarise.py                       # every results/bench/{train,features,metrics}_*.json
    python benchmarks/summarise.py results/bench/train_cuda.json

Nothing is measured here: each table is read from one JSON file, and its heading names the file, the device,
the git commit and the date it was measured.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tabulate import tabulate


def _heading(path: Path, record: dict) -> str:
    prov, device = record["provenance"], record["device"]
    load = device.get("load_average_1_5_15min")
    about = f"{device['name']}" + (f", load average {load[0]} at the start" if load else "")
    return (f"`{path}`: {about}; git {str(prov.get('git_commit'))[:12]}, {prov['time_utc'][:10]}, "
            f"torch {prov['versions'].get('torch')}")


def train_table(record: dict) -> str:
    """Per model and image size: seconds per generator step (median), runs per hour, ratio to the baseline, and the
    FLOP lower bound of the step at the device's ceiling."""
    rows, skipped = [], {}
    for entry in record["results"]:
        for name, v in entry["variants"].items():
            if "seconds_per_step" not in v:
                skipped[name] = v.get("skipped") or v.get("error")
                continue
            bound = ", ".join(f"{s:.3g} s ({k})" for k, s in v["lower_bound_seconds_per_step"].items())
            share = ", ".join(f"{f:.0%}" for f in v["fraction_of_ceiling"].values())
            rows.append([entry["model"], entry["image_size"], name, v["seeds"], f"{v['seconds_per_step']:.3g}",
                         f"{v['runs_per_hour']:.3g}", f"{v.get('runs_per_hour_vs_baseline', 1.0):.2f}×",
                         f"{bound}; achieved {share} of it"])
    table = tabulate(rows, headers=["model", "px", "variant", "seeds", "s / G step", "runs / h",
                                    "vs baseline", "FLOP lower bound of the step"], tablefmt="github")
    batch = record["results"][0]["batch_size"] if record["results"] else "?"
    notes = [f"Batch {batch}; runs / h at the paper's {record['steps_per_run']:,} generator steps per run."]
    notes += [f"Not measured: {name} ({why})." for name, why in skipped.items()]
    return table + "\n\n" + " ".join(notes)


def features_table(record: dict) -> str:
    rows = []
    for name, v in record["results"].items():
        if "images_per_s" not in v:
            rows.append([name, "", "", "", "", v.get("skipped") or v.get("error")])
            continue
        rows.append([name, v["precision"], v["batch_size"], f"{v['images_per_s']:.3g}",
                     f"{v['speed_vs_pytorch_fid']:.2f}×", f"{v['fid_minus_fp32_fid']:+.4f}"])
    return tabulate(rows, headers=["variant", "precision", "batch", "images / s", "vs pytorch-fid",
                                   f"FID − fp32 FID ({record['images_per_set']} vs {record['images_per_set']} "
                                   f"{record['data']})"], tablefmt="github")


def metrics_table(record: dict) -> str:
    rows = []
    knn = record.get("knn")
    if knn:
        rows.append([f"5-NN, {knn['n_per_set']:,} + {knn['n_per_set']:,} × {knn['dims']}-d (float64)",
                     f"{knn['seconds']:.3g} s"])
    fd = record.get("frechet_distance")
    if fd:
        rows.append([f"Fréchet distance, {fd['dims']}-d ({fd['where']})", f"{fd['seconds']:.3g} s"])
    for space, v in (record.get("feature_extraction") or {}).items():
        rows.append([f"features, {space}", f"{v['images_per_s']:.4g} images/s"])
    return tabulate(rows, headers=["what", "time"], tablefmt="github")


TABLES = {"train": train_table, "features": features_table, "metrics": metrics_table}


def summarise(path: Path) -> str:
    kind = path.name.split("_")[0]
    if kind not in TABLES:
        raise ValueError(f"{path}: expected a train_*, features_* or metrics_* benchmark file")
    record = json.loads(path.read_text())
    return f"{_heading(path, record)}\n\n{TABLES[kind](record)}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    args = parser.parse_args()
    files = args.files or sorted(p for kind in TABLES for p in Path("results/bench").glob(f"{kind}_*.json"))
    print("\n".join(summarise(p) for p in files))


if __name__ == "__main__":
    main()
