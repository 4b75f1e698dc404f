# hmogbench workflow entry point; the rules live under workflow/ (snakemake-workflows layout).
# `rule all` is defined here: Snakemake takes the default target from the top-level Snakefile.
include: "workflow/Snakefile"


rule all:
    """Every configured data set's tables and diff, the figures of its mixtures, and the toy experiments."""
    input:
        expand("tables/{dataset}.diff.md", dataset=TABLE_SETS),
        all_figure_files(),
        "results/toy/summary.md",
    default_target: True
