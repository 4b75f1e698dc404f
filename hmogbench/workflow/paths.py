"""Where the workflow keeps what it makes: every path of a workflow run, relative to its working directory.

The Snakemake rules (workflow/rules/*.smk) and the commands that look for the workflow's files
(``hmogbench tables``, ``hmogbench figures``' folders) read these templates; none spells a path again.
A template's ``{fields}`` are the rules' wildcards; ``fill`` sets some of them and keeps the others.
Torch-free: the Snakefile imports this module while parsing.
"""

from __future__ import annotations

import string

# prepared data (hmogbench data prepare / fixture)
DATA_ROOT = "results/data"
PREPARED = DATA_ROOT + "/{dataset}/{split}.npy"  # split: train or test; uint8 (N, H, W, C)
MANIFEST = DATA_ROOT + "/{dataset}/manifest.json"
FIXTURE_ROOT = "resources/fixtures"
FIXTURE = FIXTURE_ROOT + "/{raw_subdir}/FIXTURE.json"  # a synthetic stand-in in a set's raw layout

# training: one folder per (dataset, model), one run per seed below it
RUNS = "results/runs/{dataset}/{model}"  # `hmogbench train --out`
GENERATOR = RUNS + "/seed{seed}/generator.pt"  # a complete run's checkpoint

# evaluation: per space, data set, model and seed
METRICS_ROOT = "results/metrics"
METRICS_FILE = "{space}/{dataset}/{model}/seed{seed}.json"  # below METRICS_ROOT
METRICS = METRICS_ROOT + "/" + METRICS_FILE
REAL_FEATURES = "results/features/{space}/{dataset}/real.{ext}"  # ext: npy (features), json (provenance)
FAKE_FEATURES = "results/features/{space}/{dataset}/{model}/seed{seed}.{ext}"  # kept with keep_features
SAMPLES = "results/samples/{dataset}/{model}/seed{seed}.{ext}"  # kept with keep_samples
GRID = "results/grids/{dataset}/{model}/seed{seed}.png"  # 8x8 samples of a run
# FD over training (config eval_every): per seed, a JSON list of records of the run's generator snapshots, by step
METRICS_OVER_TRAINING = "results/metrics_over_training/" + METRICS_FILE

# tables, pictures, figures, toy experiments
TABLES_ROOT = "tables"
TABLE = TABLES_ROOT + "/{dataset}.{ext}"  # ext: one of TABLE_FILES
# a data set's table files: the LaTeX tables, the Markdown tables and diff, and both as HTML pages (the report's)
TABLE_FILES = ("tex", "md", "diff.md", "html", "diff.html")
# beyond the thesis: its rows with FD, KID, 5-NN, precision, recall, density, coverage (hmogbench/tables/extended.py)
EXTENDED_FILES = ("extended.md", "extended.tex", "extended.html")
AGREEMENT_PLOT = "results/plots/{dataset}/table{number}-{space}.png"
CURVES = "results/plots/{dataset}/{model}/curves.png"
OVER_TRAINING_PLOT = "results/plots/{dataset}/{model}/over_training.png"  # FD over generator steps, all seeds
FIGURE_DIR = "results/figures/{dataset}/{model}/seed{seed}"  # `hmogbench figures --out` of one run
TOY_ROOT = "results/toy"
TOY_SUMMARY = TOY_ROOT + "/summary.md"
TOY_FIGURE = TOY_ROOT + "/{toy}/{model}/{name}.png"


def fields(template: str) -> list[str]:
    """The ``{fields}`` of ``template`` in order: 'results/grids/{dataset}/{model}/seed{seed}.png' ->
    ['dataset', 'model', 'seed']."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def fill(template: str, **values) -> str:
    """``template`` with the fields in ``values`` set and every other field kept as ``{field}``.

    A value naming a field that ``template`` lacks is a ``ValueError`` (a misspelt field would be silently
    ignored otherwise)."""
    unknown = sorted(set(values) - set(fields(template)))
    if unknown:
        raise ValueError(f"path template {template!r} has no field(s) {', '.join(unknown)}")
    return template.format_map({name: values.get(name, f"{{{name}}}") for name in fields(template)})
