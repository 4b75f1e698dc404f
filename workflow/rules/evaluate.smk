# Evaluation (thesis 5.2): N samples per run, their features in each configured space, then FD, KID and the
# 5-NN real/fake scores against the real test set's features (computed once per data set and space).
# One `evaluate` job per (data set, model) covers all its seeds and spaces: each generator and feature network is
# loaded once, the samples stay in memory (`hmogbench sample`, `features` and `score` remain for users).
# With eval_every (common.smk), the same job also scores each run's generator snapshots: FD over training.


rule real_features:
    """Features of the first eval_images real test images, once per data set and space."""
    input:
        real_test,
    output:
        features=fill(paths.REAL_FEATURES, ext="npy"),
        meta=fill(paths.REAL_FEATURES, ext="json"),
    params:
        images=config["eval_images"],
        device=config["device"],
        options=feature_options,
        batch=config["feature_batch_size"],
    threads: threads_of("real_features")
    resources:
        **resources_of("real_features"),
    conda:
        "../../environment.yml"
    log:
        "logs/features/{space}/{dataset}/real.log",
    shell:
        "hmogbench features {input} --features {wildcards.space} --limit {params.images} {params.options}"
        " --device {params.device} --batch-size {params.batch} --out {output.features} --no-progress > {log} 2>&1"


rule evaluate:
    """Every seed of one (dataset, model) in every space: results/metrics/<space>/<dataset>/<model>/seed<N>.json."""
    input:
        generators=expand(paths.GENERATOR, seed=SEEDS, allow_missing=True),
        real=real_test,
        real_features=expand(paths.REAL_FEATURES, space=EVALUATED_SPACES, ext=("npy", "json"), allow_missing=True),
    output:
        metrics=expand(paths.METRICS, space=SPACES, seed=SEEDS, allow_missing=True),
        over_training=over_training_outputs(),  # with eval_every: results/metrics_over_training/<space>/...
        grids=[report(fill(paths.GRID, seed=seed), caption="../report/grid.rst", category="{dataset}",
                      subcategory="{model}", labels={"figure": "sample grid", "model": "{model}", "seed": str(seed)})
               for seed in SEEDS],
        samples=kept_outputs("keep_samples", paths.SAMPLES, seed=SEEDS),
        features=kept_outputs("keep_features", paths.FAKE_FEATURES, space=SPACES, seed=SEEDS),
    params:
        images=config["eval_images"],
        device=config["device"],
        spaces=" ".join(SPACES),
        options=evaluate_options,
        batch=config["feature_batch_size"],
        real_features=per_job(paths.REAL_FEATURES, ext="npy"),  # {space}: filled by `hmogbench evaluate`
        metrics=per_job(paths.METRICS),  # {space}, {seed}: filled by `hmogbench evaluate`
        grids=per_job(paths.GRID),
    threads: threads_of("evaluate")
    resources:
        **resources_of("evaluate"),
    conda:
        "../../environment.yml"
    log:
        "logs/evaluate/{dataset}/{model}.log",
    shell:
        "exec hmogbench evaluate {input.generators} --spaces {params.spaces} --count {params.images}"
        " --at-most-like {input.real} --real-features '{params.real_features}' --out '{params.metrics}'"
        " --grid-out '{params.grids}'"
        " {params.options} --device {params.device} --batch-size {params.batch} --no-progress > {log} 2>&1"
