# A committed example (config/demo.yaml): a small real grid trained with eval_every, collected by `hmogbench example`
# into results/examples/<example>/ -- FID over training (csv, README table, curve), each run's 8x8 sample grid at
# its last step, provenance -- and shown in the report.
#   snakemake --cores 2 demo --configfile config/demo.yaml


def example_inputs(template, **values):
    """`template` over every table data set x model x seed of the grid (the demo needs eval_every)."""
    if not EVAL_EVERY:
        raise ValueError("the demo target collects FD over training: set eval_every (config/demo.yaml does)")
    return [f for d in TABLE_SETS for f in expand(template, dataset=d, model=models_of(d), seed=SEEDS, **values)]


def example_configs():
    """The config files of this invocation, relative to the working directory where they lie below it."""
    here = Path.cwd()
    files = [Path(f).resolve() for f in workflow.configfiles]
    return [str(f.relative_to(here)) if f.is_relative_to(here) else str(f) for f in files]


def example_title():
    models = ", ".join(m for d in TABLE_SETS for m in models_of(d))
    steps = f"{config['steps']:,} generator steps" if config["steps"] else "the authors' lengths"
    seeds = ", ".join(map(str, SEEDS))
    return f"Demo grid: {models} on {', '.join(TABLE_SETS)}, {steps} at batch {config['batch_size']}, seed {seeds}"


EXAMPLE_DIR = f"results/examples/{config['example']}"
EXAMPLE_GRIDS = [f"{EXAMPLE_DIR}/samples_{m}_seed{s}.png" for d in TABLE_SETS for m in models_of(d) for s in SEEDS]


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
        out=EXAMPLE_DIR,
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
