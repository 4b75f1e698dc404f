# Interpretability figures (thesis 5.6, paper IV.C) of trained ME / HME runs:
#   results/runs/{dataset}/{model}/seed{seed}/generator.pt -> results/figures/{dataset}/{model}/seed{seed}/
# HME runs get the node-response tree as well (rule figures); ME runs everything else (rule figures_me).
# Settings come from the optional config mapping `figures` (defaults below); `all_figures` draws every
# ME/HME run of figures.datasets x figures.models x figures.seeds (FC and competitors are skipped; empty
# lists: the grid's table sets, its ME/HME models, its first seed).
# File names and the run -> folder mapping live in hmogbench/interpret/outputs.py (the CLI writes the same).
from hmogbench.interpret.outputs import FIGURE_DIR, output_files

FIGURE_RUN = "results/runs/{dataset}/{model}/seed{seed}/generator.pt"


FIGURE_SHELL = (
    "hmogbench figures {input} --out {params.out} --samples {params.samples} --draws {params.draws}"
    " --top {params.top} --grid {params.grid} --max-depth {params.max_depth}"
    " --permutations {params.permutations} --seed {params.seed} --device {params.device}"
    " --no-progress > {log} 2>&1"
)


rule figures:
    """Node and leaf responses, gate covariance with its block score, leaf samples, sample grids: HME runs."""
    input:
        FIGURE_RUN,
    output:
        [figure_output(name) for name in output_files("hme")],
    wildcard_constraints:
        model="HME-(L-)?[0-9]+",
        seed="[0-9]+",
        dataset="[^/]+",
    params:
        out=FIGURE_DIR,
        **{k: FIGURES[k] for k in ("samples", "draws", "top", "grid", "max_depth", "permutations", "seed", "device")},
    threads: threads_of("figures")
    resources:
        **resources_of("figures"),
    conda:
        "../../environment.yml"
    log:
        "logs/figures/{dataset}/{model}/seed{seed}.log",
    shell:
        FIGURE_SHELL


rule figures_me:
    """The same figures for ME runs, without the node-response tree (an ME has no tree)."""
    input:
        FIGURE_RUN,
    output:
        [figure_output(name) for name in output_files("me")],
    wildcard_constraints:
        model="ME-(L-)?[0-9]+",
        seed="[0-9]+",
        dataset="[^/]+",
    params:
        out=FIGURE_DIR,
        **{k: FIGURES[k] for k in ("samples", "draws", "top", "grid", "max_depth", "permutations", "seed", "device")},
    threads: threads_of("figures")
    resources:
        **resources_of("figures"),
    conda:
        "../../environment.yml"
    log:
        "logs/figures/{dataset}/{model}/seed{seed}.log",
    shell:
        FIGURE_SHELL


rule all_figures:
    """Figures of every ME/HME run in figures.datasets x figures.models x figures.seeds."""
    input:
        all_figure_files(),


localrules:
    all_figures,
