# Interpretability figures (thesis 5.6, paper IV.C) of trained ME / HME runs:
#   results/runs/{dataset}/{model}/seed{seed}/generator.pt -> results/figures/{dataset}/{model}/seed{seed}/
# One rule per gated family of the registry (hmogbench/registry/families.py): figures_hme (with the node-response tree),
# figures_me (an ME has no tree); each takes the models of its family (the registry's name pattern).
# Settings come from the optional config mapping `figures` (defaults: hmogbench/interpret/settings.py);
# `all_figures` draws every ME/HME run of figures.datasets x figures.models x figures.seeds (FC and competitors
# are skipped; empty lists: the grid's table sets, its ME/HME models, its first seed).
# File names and the run -> folder mapping live in hmogbench/interpret/outputs.py (the CLI writes the same).
from hmogbench.interpret.outputs import output_files


for family in families.family_keys(families.is_mixture):

    rule:
        name:
            f"figures_{family}"
        input:
            paths.GENERATOR,
        output:
            [figure_output(name) for name in output_files(family)],
        wildcard_constraints:
            model=families.family_of(family).pattern(),
        params:
            out=paths.FIGURE_DIR,
            **{k: FIGURES[k] for k in (*default_settings(), "device")},
        threads: threads_of("figures")
        resources:
            **resources_of("figures"),
        conda:
            "../../environment.yml"
        log:
            "logs/figures/{dataset}/{model}/seed{seed}.log",
        shell:
            f"hmogbench figures {{input}} --out {{params.out}} {FIGURE_OPTIONS} --device {{params.device}}"
            " --no-progress > {log} 2>&1"


rule all_figures:
    """Figures of every ME/HME run in figures.datasets x figures.models x figures.seeds."""
    input:
        all_figure_files(),


localrules:
    all_figures,
