"""``hmogbench example``: the committed record of a small real grid (config/demo.yaml), in one folder a reader opens
first -- ``fid_over_steps.csv`` (tidy rows, ``example_rows``), ``README.md`` and ``index.html`` (the table of FID
over steps and at the end, the pictures, the provenance in words), ``fid_over_steps.png`` (the curve),
``samples_<model>_seed<seed>.png`` (each run's 8 x 8 grid at its last step) and ``provenance.json`` (the config
files, the runs' and evaluations' commits, lock hashes, versions and devices, s/step, wall time).

The thesis's published FID of each model stands beside ours for scale only: it is not comparable (the thesis's
extractor, not the FID network; 23,250 steps, 10,000 images).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from ..pictures.example import Reference, Series, save_example_curve
from ..registry.published import load_published
from ..runtime.provenance import atomic_path, write_text_atomic
from ..tables.document import Heading, Paragraph, Table, to_html, to_markdown
from .example_provenance import example_provenance, provenance_lines, write_provenance
from .example_rows import example_rows, write_rows

FILES = ("README.md", "index.html", "fid_over_steps.csv", "fid_over_steps.png", "provenance.json")


@dataclass(frozen=True)
class ExampleInputs:
    """What ``hmogbench example`` collects: the runs' over-training files (one per run, in ``space``), final
    metrics files (every space), 8 x 8 grid PNGs (``results/grids/<set>/<model>/seed<N>.png``), run directories
    (with run.json), the config files, the command that regenerates it and a one-line title."""

    over_training: list[str]
    metrics: list[str]
    grids: list[str]
    runs: list[str]
    configs: list[str]
    command: str
    title: str


def grid_name(path: str | Path) -> str:
    """results/grids/mnist/FC/seed2019.png -> samples_FC_seed2019.png (the workflow's grid pattern)."""
    path = Path(path)
    if not (path.suffix == ".png" and path.stem.startswith("seed") and path.stem[4:].isdigit()):
        raise ValueError(f"grid {path}: expected results/grids/<set>/<model>/seed<N>.png")
    return f"samples_{path.parent.name}_{path.stem}.png"


def thesis_references(dataset: str, models: list[str]) -> list[Reference]:
    """The thesis's FID (mean over 5 seeds) of each of ``models`` on ``dataset``, where it has one."""
    published = {(r["dataset"], r["model"]): float(r["fid_mean"]) for r in load_published()}
    return [Reference(m, published[dataset, m], f"thesis {m}: {published[dataset, m]:.2f} (23,250 steps, thesis "
                      "Inception, 10,000 images: NOT comparable)") for m in models if (dataset, m) in published]


def snapshot_series(rows: list[dict]) -> list[Series]:
    """FD over steps of each run, from the snapshot rows."""
    runs = sorted({(r["model"], r["seed"]) for r in rows if r["kind"] == "snapshot"})
    series = []
    for model, seed in runs:
        points = sorted((r["step"], r["fd"]) for r in rows if r["kind"] == "snapshot" and (r["model"], r["seed"])
                        == (model, seed))
        series.append(Series(model, f"{model} seed {seed}", [s for s, _ in points], [v for _, v in points]))
    return series


def _cell(rows: list[dict], **match) -> dict | None:
    found = [r for r in rows if all(r[k] == v for k, v in match.items())]
    return found[0] if found else None


def _number(value, digits: int = 1) -> str:
    return "--" if value is None else f"{value:.{digits}f}"


def summary_table(rows: list[dict], references: list[Reference]) -> Table:
    """Per run: FD at each snapshot step, the final scores in each space, and the thesis's FID for scale."""
    snapshot_space = next(r["space"] for r in rows if r["kind"] == "snapshot")
    steps = sorted({r["step"] for r in rows if r["kind"] == "snapshot"})
    final_spaces = sorted({r["space"] for r in rows if r["kind"] == "final"}, key=lambda s: s != snapshot_space)
    thesis = {r.model: r.value for r in references}
    out = []
    for model, seed in sorted({(r["model"], r["seed"]) for r in rows}):
        cells = [model, str(seed)]
        cells += [_number((_cell(rows, model=model, seed=seed, kind="snapshot", step=s) or {}).get("fd"))
                  for s in steps]
        final = _cell(rows, model=model, seed=seed, kind="final", space=snapshot_space) or {}
        cells += [_number(final.get("fd")), _number(final.get("knn_fake_pct")), _number(final.get("recall"), 3)]
        cells += [_number((_cell(rows, model=model, seed=seed, kind="final", space=space) or {}).get("fd"))
                  for space in final_spaces[1:]]
        out.append((*cells, _number(thesis.get(model), 2)))
    name = {r["space"]: r["fd_name"] for r in rows}
    headers = ["Model", "Seed", *(f"step {s}" for s in steps), f"{name[snapshot_space]} at the end",
               "5-NN fake %", "recall", *(f"{name[space]} at the end" for space in final_spaces[1:]),
               "thesis FID (not comparable)"]
    return Table(tuple(headers), tuple(out), align=("left", "right", *("right",) * (len(headers) - 2)))


def _caption(rows: list[dict]) -> str:
    snap = next(r for r in rows if r["kind"] == "snapshot")
    final = next(r for r in rows if r["kind"] == "final" and r["space"] == snap["space"])
    return (f"{snap['fd_name']} ({snap['space']}) of each run's generator snapshots (columns 'step N'): "
            f"{snap['n_fake']:,} samples against the first {snap['n_real']:,} real test images; at the end, "
            f"{final['n_fake']:,} against {final['n_real']:,}, with the 5-NN fake accuracy and the recall (k = 3) "
            "in that space, and the same samples in every other space (fid_over_steps.csv has every score). The "
            "thesis's FID (torchvision Inception, 23,250 steps, 10,000 images, mean of 5 seeds) is given for scale "
            "only: **not comparable**.")


def document(rows: list[dict], references: list[Reference], grids: list[str], inputs: ExampleInputs,
             provenance: dict, markdown: bool = True):
    """The README (``markdown``) or index.html blocks: title, caption and table, the pictures (Markdown: inline;
    HTML: named, the report shows them beside the page), the provenance, the command."""
    names = ["fid_over_steps.png", *map(grid_name, grids)]
    pictures = (" ".join(f"![{name}]({name})" for name in names) if markdown
                else f"Pictures: {', '.join(names)} (in this folder, and in the report beside this page).")
    return [Heading(inputs.title, 1), Paragraph(_caption(rows)), summary_table(rows, references),
            Paragraph(pictures), Heading("Provenance"), *map(Paragraph, provenance_lines(provenance)),
            Paragraph(f"Regenerate (rewrites this folder): {inputs.command}")]


def write_example(inputs: ExampleInputs, out: str | Path) -> list[Path]:
    """Collect ``inputs`` into the folder ``out`` (each file written atomically); returns the files written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = example_rows(inputs.over_training, inputs.metrics)
    if not any(r["kind"] == "snapshot" for r in rows) or not any(r["kind"] == "final" for r in rows):
        raise ValueError("hmogbench example: expected over-training records (eval_every) and final records")
    references = thesis_references(rows[0]["dataset"], sorted({r["model"] for r in rows}))
    provenance = example_provenance(inputs, rows)
    written = [write_rows(out / "fid_over_steps.csv", rows), write_provenance(out / "provenance.json", provenance)]
    name = next(r["fd_name"] for r in rows if r["kind"] == "snapshot")
    written.append(save_example_curve(snapshot_series(rows), references, name, inputs.title,
                                      out / "fid_over_steps.png"))
    for grid in inputs.grids:
        with atomic_path(out / grid_name(grid)) as tmp:
            shutil.copyfile(grid, tmp)
        written.append(out / grid_name(grid))
    write_text_atomic(out / "README.md", to_markdown(document(rows, references, inputs.grids, inputs, provenance)))
    write_text_atomic(out / "index.html", to_html(document(rows, references, inputs.grids, inputs, provenance,
                                                           markdown=False), inputs.title))
    return [*written, out / "README.md", out / "index.html"]
