# Configuration and helpers shared by the rules (no rules here).
import dataclasses
import os
import shlex
import sys
from pathlib import Path

import yaml
from snakemake.utils import validate

from hmogbench.registry import datasets, families
from hmogbench.runtime import device_slots
from hmogbench.workflow import job_resources, paths
from hmogbench.workflow.config_schema import coerce as coerce_config, config_error
from hmogbench.data.catalog import get_spec
from hmogbench.data.verify import DataError, check_manifest
from hmogbench.registry.feature_spaces import wildcard_pattern as space_pattern
from hmogbench.interpret.outputs import figure_targets
from hmogbench.interpret.settings import default_settings
from hmogbench.workflow.paths import fill
from hmogbench.tables.grid import paper_models, run_settings, thesis_tables


configfile: str(Path(workflow.current_basedir).parents[1] / "config" / "config.yaml")


# `--config seeds=[2019,2020]` gives strings: type them by the schema first, then check them: a bad value is one
# line naming the key, the value and what is expected (not jsonschema's dump); then validate, which fills defaults
CONFIG_SCHEMA = Path(workflow.current_basedir).parent / "schemas" / "config.schema.yaml"
SCHEMA = yaml.safe_load(CONFIG_SCHEMA.read_text())
coerce_config(config, SCHEMA)
if (CONFIG_PROBLEM := config_error(config, SCHEMA)) is not None:
    sys.exit(f"hmogbench workflow: {CONFIG_PROBLEM}")
validate(config, schema=str(CONFIG_SCHEMA))

RAW_SUBDIR_TO_SET = {d.raw_subdir: d.name for d in datasets.DATASETS if d.raw_subdir}

# The grid: data sets with thesis tables, their models, the seeds, the feature spaces.
TABLE_SETS = [d for d in config["datasets"] if datasets.get_dataset(d).in_thesis]
SEEDS = [int(s) for s in config["seeds"]]
SPACES = config["feature_spaces"]
ON_GPU = config["device"] != "cpu"

# FD over training (docs/workflow.md#fd-over-training): with eval_every set, every run keeps a generator snapshot
# every eval_every steps and at its end, and the evaluate job scores them in one space with fewer images; null (the
# default): none, nothing else changes. select: best makes each run's records (the tables) score its best snapshot.
EVAL_EVERY = config["eval_every"]
OVER_TRAINING_SPACE = config["over_training_space"] or SPACES[0]
EVALUATED_SPACES = list(dict.fromkeys([*SPACES, OVER_TRAINING_SPACE])) if EVAL_EVERY else SPACES
if EVAL_EVERY is None and config["select"] != "final":
    sys.exit(f"hmogbench workflow: config key 'select' = {config['select']!r}: expected eval_every set (the best of "
             "a run's generator snapshots is chosen), or select: final")


onstart:
    # Snakemake never assigns devices: on this machine (not on SLURM or another executor, where each job gets its
    # own GPU; only now is the executor known) the GPU rules' commands take a device slot each (GPU ids x
    # jobs_per_gpu; hmogbench.runtime.device_slots), and the `gpu` resource is the slots' count unless
    # `--resources gpu=N` sets it; device cuda:N, or cuda with no GPU visible: one GPU job at a time; device auto
    # with no GPU visible: the jobs run on the CPU, no cap.
    SLOTS_VALUE, SLOT_COUNT, SLOTS_LINE = device_slots.workflow_slots(
        config["device"], workflow.local_exec, config["gpus"], config["jobs_per_gpu"])
    os.environ.pop(device_slots.SLOTS_ENV, None)
    if SLOTS_VALUE:
        os.environ[device_slots.SLOTS_ENV] = SLOTS_VALUE  # the jobs' environment
    if SLOT_COUNT and "gpu" not in workflow.global_resources:
        workflow.register_resource("gpu", SLOT_COUNT)
        # Snakemake 9 copies the resources it counts down into its scheduler before onstart: count `gpu` too
        if getattr(workflow, "scheduler", None) is not None:
            workflow.scheduler.global_resources["gpu"] = SLOT_COUNT
    if SLOTS_LINE:
        print(SLOTS_LINE)


wildcard_constraints:
    dataset=datasets.wildcard_pattern(),  # exactly the registry's data sets
    model=families.name_pattern(),  # exactly the canonical model names of the registry
    seed=r"\d+",
    space=space_pattern(),


def raw_dir_of(wildcards):
    """Where `hmogbench data prepare` reads this set's raw files from."""
    return paths.FIXTURE_ROOT if wildcards.dataset in config["fixtures"] else config["raw_dir"]


def fixture_marker(wildcards):
    """A fixture set depends on its FIXTURE.json (so the fixture is made first); others on nothing."""
    if wildcards.dataset in config["fixtures"]:
        return fill(paths.FIXTURE, raw_subdir=datasets.get_dataset(wildcards.dataset).raw_subdir)
    return []


def fixture_set(wildcards):
    return RAW_SUBDIR_TO_SET[wildcards.raw_subdir]


def models_of(dataset):
    """The models trained for `dataset`: its 29 thesis models ('paper') or the configured list."""
    return paper_models(dataset) if config["models"] == "paper" else list(config["models"])


def train_source(dataset):
    """Prepared set the models of a table data set train on (config `train_source`, default itself)."""
    return config["train_source"].get(dataset, dataset)


def train_data(wildcards):
    """The training split of the set a job trains on."""
    return fill(paths.PREPARED, dataset=train_source(wildcards.dataset), split="train")


def real_test(wildcards):
    """Prepared test set the samples are compared with (config `real_source`, default itself)."""
    return fill(paths.PREPARED, dataset=config["real_source"].get(wildcards.dataset, wildcards.dataset), split="test")


def train_options(wildcards):
    """`--set` options of `hmogbench train` for one (dataset, model): grid settings and overrides; config `steps`
    null (the authors' full length) passes --full-length, which a CPU run without steps needs."""
    values = {"model": wildcards.model, **run_settings(wildcards.dataset), "batch_size": config["batch_size"],
              "device": config["device"], "checkpoint_every": config["checkpoint_every"],
              **({"eval_every": EVAL_EVERY} if EVAL_EVERY else {}), **config["train_overrides"]}
    if config["steps"] is not None:
        values["steps"] = config["steps"]
    if config["train_precision"] != "fp32":  # the faithful default passes nothing: its commands are unchanged
        values["train_precision"] = config["train_precision"]
    values["extra"] = {"train_data": train_source(wildcards.dataset)}
    options = [shlex.quote(f"--set={key}={value}") for key, value in values.items()]
    return " ".join(options + (["--full-length"] if config["steps"] is None else []))


# One train job per (dataset, model) training every seed (config `batch_seeds`, the default), or one per seed.
BATCH_SEEDS = config["batch_seeds"]
TRAIN_OUTPUT = expand(paths.GENERATOR, seed=SEEDS, allow_missing=True) if BATCH_SEEDS else paths.GENERATOR
TRAIN_LOG = "logs/train/{dataset}/{model}.log" if BATCH_SEEDS else "logs/train/{dataset}/{model}/seed{seed}.log"


def seed_options(wildcards):
    """`hmogbench train` options naming the seeds of a job: all of them and how they are batched, or its one."""
    if not BATCH_SEEDS:
        return f"--seeds {wildcards.seed}"
    options = f"--seeds {' '.join(map(str, SEEDS))} --batch-mode {config['batch_mode']}"
    if config["train_compile"]:
        options += f" --compile {shlex.quote(config['train_compile'])}"
    return options


def feature_options(wildcards):
    """`hmogbench features` options of one space: weights file and the opt-in speed switches."""
    options = [weights_option(wildcards), f"--precision {config['feature_precision']}"]
    if config["feature_channels_last"]:
        options.append("--channels-last")
    return " ".join(o for o in options if o)


def weights_option(wildcards):
    path = config["inception_weights"].get(wildcards.space)
    return f"--weights {path}" if path else ""


def per_job(template, **values):
    """`template` with the job's own wildcards (dataset, model, ...) and `values` filled, every other field kept
    for the command to fill (as `hmogbench evaluate` fills {space} and {seed})."""
    return lambda wildcards: fill(template, **{k: v for k, v in wildcards.items() if k in paths.fields(template)},
                                  **values)


def kept_outputs(key, pattern, **wildcards):
    """The .npy and .json files of `pattern` (over `wildcards`) when config `key` says to keep them, else none."""
    return expand(pattern, ext=("npy", "json"), **wildcards, allow_missing=True) if config[key] else []


KEPT_PATTERNS = {  # `hmogbench evaluate` options that also keep the samples / the fake features
    "keep_samples": ("--samples-out", paths.SAMPLES),
    "keep_features": ("--features-out", paths.FAKE_FEATURES),
}


def evaluate_options(wildcards):
    """`hmogbench evaluate` options: each space's weights file, the opt-in speed switches, what to keep, and with
    eval_every the scoring of the runs' snapshots."""
    options = [f"--weights {space}={path}" for space, path in config["inception_weights"].items()
               if space in EVALUATED_SPACES]
    options.append(f"--precision {config['feature_precision']} --fake-pixels {config['fake_pixels']}")
    if config["feature_channels_last"]:
        options.append("--channels-last")
    for key, (option, pattern) in KEPT_PATTERNS.items():
        if config[key]:
            path = fill(pattern, dataset=wildcards.dataset, model=wildcards.model, ext="npy")  # {space}, {seed} kept
            options.append(f"{option} '{path}'")
    if EVAL_EVERY:
        path = fill(paths.METRICS_OVER_TRAINING, dataset=wildcards.dataset, model=wildcards.model,
                    space=OVER_TRAINING_SPACE)  # {seed} kept
        options.append(f"--over-training-out '{path}' --over-training-space {OVER_TRAINING_SPACE}"
                       f" --over-training-count {config['over_training_images']} --select {config['select']}")
    return " ".join(options)


def over_training_outputs():
    """The evaluate job's over-training files (one per seed) with eval_every, else none."""
    if not EVAL_EVERY:
        return []
    return expand(paths.METRICS_OVER_TRAINING, space=OVER_TRAINING_SPACE, seed=SEEDS, allow_missing=True)


# --- what each job asks of the machine or the cluster (threads, mem_mb, runtime; SLURM: --cpus-per-task, --mem,
# --time): derived from what the job is by hmogbench.workflow.job_resources (measured table + FLOP formula, safety factors),
# overridable per grid (config `job_resources`), threads capped by config `max_threads`


def train_job(wildcards, input=None):
    """The derived size of one train job (all its seeds); the data count from train.npy once it exists (before:
    the registry's training split)."""
    spec = datasets.get_dataset(wildcards.dataset)
    images = job_resources.train_images(train_source(wildcards.dataset), input.size_mb if input else None)
    steps = config["steps"] or job_resources.default_steps(wildcards.model)
    seeds = 1 if "seed" in wildcards.keys() else len(SEEDS)
    return job_resources.train_resources(
        model=wildcards.model, image_size=spec.image_size, channels=spec.channels, batch_size=config["batch_size"],
        steps=steps, seeds=seeds, device=config["device"], train_images=images, max_threads=config["max_threads"],
        precision=config["train_precision"])


def evaluate_job(wildcards, input=None):
    spec = datasets.get_dataset(wildcards.dataset)
    steps = config["steps"] or families.default_steps(wildcards.model)
    snapshots = -(-steps // EVAL_EVERY) if EVAL_EVERY else 0  # every eval_every steps and the last
    return job_resources.evaluate_resources(
        model=wildcards.model, image_size=spec.image_size, channels=spec.channels, seeds=len(SEEDS), spaces=SPACES,
        eval_images=config["eval_images"], device=config["device"], max_threads=config["max_threads"],
        snapshots=snapshots, over_training_space=OVER_TRAINING_SPACE,
        over_training_images=config["over_training_images"])


def real_features_job(wildcards, input=None):
    spec = datasets.get_dataset(wildcards.dataset)
    return job_resources.real_features_resources(
        space=wildcards.space, eval_images=config["eval_images"], image_size=spec.image_size,
        channels=spec.channels, device=config["device"], max_threads=config["max_threads"])


def prepare_job(wildcards, input=None):
    largest = max((s.expected_count or 0 for s in get_spec(wildcards.dataset).sources), default=0)
    return job_resources.prepare_resources(dataset_images=largest or 70_000, max_threads=config["max_threads"])


def figures_job(wildcards, input=None):
    return job_resources.figures_resources(device=config["device"], max_threads=config["max_threads"])


SIZED_RULES = {"prepare_data": prepare_job, "train": train_job, "real_features": real_features_job,
               "evaluate": evaluate_job, "figures": figures_job}
GPU_RULES = {"train", "real_features", "evaluate", "figures"}
RESUMABLE_RULES = {"train", "evaluate"}  # a rerun goes on from what a stopped job kept: they get SLURM's warning
GPU_REQUESTS = {"gpus": {"gpu": 1}, "gres": {"gres": "gpu:1"}, "shard": {"gres": "shard:1"}}  # -> sbatch --gpus=1,
# --gres=gpu:1, --gres=shard:1


def sized(rule, wildcards, input=None):
    """The job's size: derived (SIZED_RULES), then the grid's overrides (config job_resources.<rule>)."""
    derived = SIZED_RULES[rule](wildcards, input)
    return dataclasses.replace(derived, **config["job_resources"].get(rule, {}))


def stop_warning(minutes):
    """sbatch's --signal=TERM@<s> for a job of `minutes`: SIGTERM a tenth of its time (60 s to 10 min) before the
    limit, so that it checkpoints in time (hmogbench.runtime.stop_signals); none under 10 min (the SIGTERM at the limit
    and KillWait suffice; SLURM may send the warning up to 60 s early)."""
    return f"--signal=TERM@{min(600, 6 * minutes)}" if minutes >= 10 else ""


def asked_minutes(rule, wildcards, input, attempt):
    """The time a job asks for: its size x the attempt, at most config max_job_hours (job_resources.asked_minutes)."""
    return job_resources.asked_minutes(sized(rule, wildcards, input).runtime, attempt, config["max_job_hours"])


def warning_of(rule):
    return lambda wildcards, input, attempt: stop_warning(asked_minutes(rule, wildcards, input, attempt))


def threads_of(rule):
    """The rule's `threads:` (Snakemake wants them before the inputs exist: from the wildcards alone)."""
    return lambda wildcards: sized(rule, wildcards).threads


def resources_of(rule):
    """The `resources:` of `rule`: memory, time (asked_minutes), SLURM's stop warning
    (the rules whose rerun goes on from a stopped job) and, for a GPU rule when `device` is not cpu, the GPU
    request (config `gpu_request`)."""
    gpu = GPU_REQUESTS[config["gpu_request"]] if ON_GPU and rule in GPU_RULES else {}
    return dict(
        mem_mb=lambda wildcards, input: sized(rule, wildcards, input).mem_mb,
        runtime=lambda wildcards, input, attempt: asked_minutes(rule, wildcards, input, attempt),
        **({"slurm_extra": warning_of(rule)} if rule in RESUMABLE_RULES else {}),
        **gpu,
    )


def table_metrics(wildcards):
    """Every metrics file of one data set's tables: space x model x seed."""
    return expand(paths.METRICS, space=SPACES, dataset=wildcards.dataset, model=models_of(wildcards.dataset),
                  seed=SEEDS)


# Interpretability figures (rules/figures.smk): settings from the optional config mapping `figures`.
FIGURE_DEFAULTS = {
    **default_settings(),  # samples, draws, top, ..., seed: hmogbench/interpret/settings.py
    "device": config["device"],  # 'auto' = cuda if available
    "datasets": [],  # [] = the table data sets of the config
    "models": [],  # [] = every ME / HME model of the grid
    "seeds": [],  # [] = the first training seed
}
FIGURES = {**FIGURE_DEFAULTS, **config.get("figures", {})}
# the settings as `hmogbench figures` options of the figures rules' shell: --samples {params.samples} ...
FIGURE_OPTIONS = " ".join(f"--{key.replace('_', '-')} {{params.{key}}}" for key in default_settings())


def all_figure_files():
    """Figure files of figures.datasets x figures.models x figures.seeds, defaults filled from the grid."""
    seeds = FIGURES["seeds"] or SEEDS[:1]
    return [f for d in (FIGURES["datasets"] or TABLE_SETS)
            for f in figure_targets([d], FIGURES["models"] or models_of(d), seeds)]


def figure_output(name):
    """One figure file of a run's folder, marked for `snakemake --report` (figures.json stays out: raw numbers)."""
    path = f"{paths.FIGURE_DIR}/{name}"
    if name.endswith(".json"):
        return path
    label = "figure captions" if name == "figures.md" else name.rsplit(".", 1)[0].replace("_", " ")
    return report(path, caption="../report/figures.rst", category="{dataset}", subcategory="{model}",
                  labels={"figure": label, "model": "{model}", "seed": "{seed}"})


# Pictures of the report (rules/report.smk): plots, sample grids and the interpretability figures.
def agreement_plot_files(dataset):
    """The agreement plots of a data set's thesis tables, one per table and configured space."""
    return expand(paths.AGREEMENT_PLOT, dataset=dataset, number=[t.number for t in thesis_tables(dataset)],
                  space=SPACES)


def curve_files(dataset):
    """The training-curve plot of each model of a data set (all its seeds in one plot)."""
    return expand(paths.CURVES, dataset=dataset, model=models_of(dataset))


def over_training_plot_files(dataset):
    """With eval_every: the FD-over-training plot of each model of a data set (all its seeds in one plot)."""
    return expand(paths.OVER_TRAINING_PLOT, dataset=dataset, model=models_of(dataset)) if EVAL_EVERY else []


def grid_files(dataset):
    """The 8x8 sample grid of every model and seed of a data set (written by rule evaluate)."""
    return expand(paths.GRID, dataset=dataset, model=models_of(dataset), seed=SEEDS)


def all_picture_files():
    """Everything the `pictures` target builds: per table data set its agreement plots, curves, sample grids and
    (with eval_every) FD-over-training plots, and the ME/HME figures of `all_figure_files()`."""
    return [f for d in TABLE_SETS for f in (*agreement_plot_files(d), *curve_files(d), *grid_files(d),
                                            *over_training_plot_files(d))] + all_figure_files()


def toy_figure_outputs():
    """The toy experiments' figures (made by the toy job), for the report -- samples.png of every (toy set, model),
    tree.png of the HME."""
    from hmogbench.toy.grid import TOY_DATASETS, TOY_MODELS

    names = [(d, m, "samples") for d in TOY_DATASETS for m in TOY_MODELS]
    names += [(d, m, "tree") for d in TOY_DATASETS for m in TOY_MODELS if m.startswith("HME")]
    return [report(fill(paths.TOY_FIGURE, toy=d, model=m, name=name), caption="../report/toy.rst", category="toy",
                   subcategory=d, labels={"figure": name, "model": m}) for d, m, name in names]


def check_prepared_sets():
    """Every prepared set the config uses (datasets, train_source, real_source) whose manifest.json exists: it
    parses and lists arrays that are on disk at their sizes (no hashing: the jobs verify the sha256 before use).
    A bad one stops the workflow here with one line, not a dry run that says there is nothing to do."""
    used = set(config["datasets"]) | set(config["train_source"].values()) | set(config["real_source"].values())
    for name in sorted(used):
        folder = Path(fill(paths.MANIFEST, dataset=name)).parent
        if (folder / "manifest.json").exists():
            try:
                check_manifest(folder)
            except DataError as exc:
                sys.exit(f"hmogbench workflow: {exc} (to have the workflow prepare it again, delete {folder}/)")


check_prepared_sets()


# The demo target (rules/example.smk): its inputs, config files, title and folder.
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
