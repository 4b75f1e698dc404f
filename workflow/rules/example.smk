# A committed example (config/demo.yaml): a small real grid trained with eval_every, collected by `hmogbench example`
# into results/examples/<example>/ -- FID over training (csv, README table, curve), each run's 8x8 sample grid at
# its last step, provenance -- and shown in the report.
#   snakemake --cores 2 demo --configfile config/demo.yaml


rule demo:
    """results/examples/<example>/: the grid's FID over steps, final scores, sample grids and provenance."""
    input:
        over_training=lambda wildcards: example_inputs(paths.METRICS_OVER_TRAINING, space=OVER_TRAINING_SPACE),
        metrics=lambda wildcards: example_inputs(paths.METRICS, space=SPACES),
        grids=lambda wildcards: example_inputs(paths.GRID),
        generators=lambda wildcards: example_inputs(paths.GENERATOR),
    output:
        csv=f"{EXAMPLE_DIR}/fid_over_steps.csv",
        readme=f"{EXAMPLE_DIR}/README.md",
        provenance=f"{EXAMPLE_DIR}/provenance.json",
        page=report(f"{EXAMPLE_DIR}/index.html", caption="../report/example.rst", category="demo",
                    labels={"figure": "FID over training: table"}),
        curve=report(f"{EXAMPLE_DIR}/fid_over_steps.png", caption="../report/example.rst", category="demo",
                     labels={"figure": "FID over training: curve"}),
        grids=[report(g, caption="../report/example.rst", category="demo",
                      labels={"figure": Path(g).stem.replace("_", " ")}) for g in EXAMPLE_GRIDS],
    params:
        runs=lambda wildcards, input: " ".join(str(Path(g).parent) for g in input.generators),
        configs=lambda wildcards: " ".join(map(shlex.quote, example_configs())),
        command=lambda wildcards: shlex.quote("snakemake --cores 2 demo --configfile "
                                              + " ".join(c for c in example_configs() if not c.endswith("config/config.yaml"))),
        title=lambda wildcards: shlex.quote(example_title()),
        out=lambda wildcards, output: str(Path(output.csv).parent),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../environment.yml"
    log:
        "logs/example.log",
    shell:
        "hmogbench example --over-training {input.over_training} --metrics {input.metrics} --grids {input.grids}"
        " --runs {params.runs} --configs {params.configs} --command {params.command} --title {params.title}"
        " --out {params.out} > {log} 2>&1"


localrules:
    demo,
