# Pictures of a workflow run for `snakemake --report`: per data set, each thesis table's regenerated-vs-published
# agreement plot per feature space, each model's training curves over its seeds, each run's 8x8 sample grid
# (written by rule evaluate), the ME/HME interpretability figures (rules figures_<family>, figures.smk) and, with
# eval_every (common.smk), each model's FD over training.
#   snakemake --cores 2 pictures --configfile config/smoke.yaml
#   snakemake --report report.html pictures tables/mnist.diff.md --configfile config/smoke.yaml
# Captions: workflow/report/*.rst (paths relative to this file), rendered with the run's config.


rule agreement_plot:
    """results/plots/<dataset>/table<number>-<space>.png: one thesis table's regenerated vs published numbers."""
    input:
        table_metrics,
    output:
        report(
            paths.AGREEMENT_PLOT,
            caption="../report/agreement.rst",
            category="{dataset}",
            subcategory="Table {number}",
            labels={"figure": "agreement with the thesis", "table": "{number}", "space": "{space}"},
        ),
    wildcard_constraints:
        number=r"5\.\d+",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../environment.yml"
    log:
        "logs/plots/{dataset}/table{number}-{space}.log",
    shell:
        "hmogbench plot agreement {wildcards.dataset} {input} --table {wildcards.number}"
        " --space {wildcards.space} --out {output} > {log} 2>&1"


rule training_curves:
    """results/plots/<dataset>/<model>/curves.png: the losses of every seed's run of one (dataset, model)."""
    input:
        expand(paths.GENERATOR, seed=SEEDS, allow_missing=True),  # complete runs only
    output:
        report(
            paths.CURVES,
            caption="../report/curves.rst",
            category="{dataset}",
            subcategory="{model}",
            labels={"figure": "training curves", "model": "{model}", "seed": "all"},
        ),
    params:
        runs=lambda wildcards, input: " ".join(str(Path(g).parent) for g in input),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../environment.yml"
    log:
        "logs/plots/{dataset}/{model}/curves.log",
    shell:
        "hmogbench plot curves {params.runs} --out {output} > {log} 2>&1"


rule over_training_plot:
    """results/plots/<dataset>/<model>/over_training.png: FD (and recall) over generator steps of every seed's
    snapshots (with eval_every; scored by rule evaluate)."""
    input:
        expand(paths.METRICS_OVER_TRAINING, space=OVER_TRAINING_SPACE, seed=SEEDS, allow_missing=True),
    output:
        report(
            paths.OVER_TRAINING_PLOT,
            caption="../report/over_training.rst",
            category="{dataset}",
            subcategory="{model}",
            labels={"figure": "FD over training", "model": "{model}", "seed": "all"},
        ),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../environment.yml"
    log:
        "logs/plots/{dataset}/{model}/over_training.log",
    shell:
        "hmogbench plot over-training {input} --out {output} > {log} 2>&1"


rule pictures:
    """Every picture of the report, for each table data set of the config: both tables' agreement plots per
    space, every model's training curves, every run's sample grid, the ME/HME figures, and with eval_every every
    model's FD over training."""
    input:
        all_picture_files(),


localrules:
    agreement_plot,
    training_curves,
    over_training_plot,
    pictures,
