# Evaluation (thesis 5.2): N samples per run, their features in each configured space, then FD, KID and the
# 5-NN real/fake scores against the real test set's features (computed once per data set and space).
# One `evaluate` job per (data set, model) covers all its seeds and spaces: each generator and feature network is
# loaded once, the samples stay in memory (`hmogbench sample`, `features` and `score` remain for users).


rule real_features:
    """Features of the first eval_images real test images, once per data set and space."""
    input:
        real_test,
    output:
        features="results/features/{space}/{dataset}/real.npy",
        meta="results/features/{space}/{dataset}/real.json",
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
        generators=expand("results/runs/{{dataset}}/{{model}}/seed{seed}/generator.pt", seed=SEEDS),
        real=real_test,
        real_features=expand("results/features/{space}/{{dataset}}/real.{ext}", space=SPACES, ext=("npy", "json")),
    output:
        metrics=expand("results/metrics/{space}/{{dataset}}/{{model}}/seed{seed}.json", space=SPACES, seed=SEEDS),
        grids=[report(f"results/grids/{{dataset}}/{{model}}/seed{seed}.png", caption="../report/grid.rst",
                      category="{dataset}", subcategory="{model}",
                      labels={"figure": "sample grid", "model": "{model}", "seed": str(seed)}) for seed in SEEDS],
        samples=kept_outputs("keep_samples", "results/samples/{{dataset}}/{{model}}/seed{seed}.{ext}", seed=SEEDS),
        features=kept_outputs("keep_features", "results/features/{space}/{{dataset}}/{{model}}/seed{seed}.{ext}",
                              space=SPACES, seed=SEEDS),
    params:
        images=config["eval_images"],
        device=config["device"],
        spaces=" ".join(SPACES),
        options=evaluate_options,
        batch=config["feature_batch_size"],
    threads: threads_of("evaluate")
    resources:
        **resources_of("evaluate"),
    conda:
        "../../environment.yml"
    log:
        "logs/evaluate/{dataset}/{model}.log",
    shell:
        "exec hmogbench evaluate {input.generators} --spaces {params.spaces} --count {params.images}"
        " --at-most-like {input.real} --real-features 'results/features/{{space}}/{wildcards.dataset}/real.npy'"
        " --out 'results/metrics/{{space}}/{wildcards.dataset}/{wildcards.model}/seed{{seed}}.json'"
        " --grid-out 'results/grids/{wildcards.dataset}/{wildcards.model}/seed{{seed}}.png'"
        " {params.options} --device {params.device} --batch-size {params.batch} --no-progress > {log} 2>&1"
