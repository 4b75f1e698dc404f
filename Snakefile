# hmogbench workflow entry point; the rules live under workflow/ (snakemake-workflows layout).
include: "workflow/Snakefile"
