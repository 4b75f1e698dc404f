# hmogbench workflow entry point; the rules live under workflow/ (snakemake-workflows layout).
# `rule all` is defined here: Snakemake takes the default target from the top-level Snakefile.
include: "workflow/Snakefile"


rule all:
    """Every configured data set's tables and diff, the figures of its mixtures, and the toy experiments."""
    input:
        expand(paths.TABLE, dataset=TABLE_SETS, ext="diff.md"),
        all_figure_files(),
        paths.TOY_SUMMARY,
    default_target: True
