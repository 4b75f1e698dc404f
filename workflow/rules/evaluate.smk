# Evaluation (thesis 5.2): N samples per run, their features in each configured space, then FD and the
# 5-NN real/fake scores against the real test set's features (computed once per data set and space).
# sample -> fake_features -> score of one run form one group: one cluster job per run.


rule sample:
    """N images from a trained generator (N = eval_images, at most as many as the real test set holds)."""
    input:
        generator="results/runs/{dataset}/{model}/seed{seed}/generator.pt",
        real=real_test,
    output:
        images=kept("results/samples/{dataset}/{model}/seed{seed}.npy", "keep_samples"),
        meta=kept("results/samples/{dataset}/{model}/seed{seed}.json", "keep_samples"),
    params:
        images=config["eval_images"],
        device=config["device"],
    group:
        "evaluate"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=30,
        gpu=1 if ON_GPU else 0,
    conda:
        "../../environment.yml"
    log:
        "logs/sample/{dataset}/{model}/seed{seed}.log",
    shell:
        "hmogbench sample {input.generator} --count {params.images} --at-most-like {input.real}"
        " --device {params.device} --out {output.images} --no-progress > {log} 2>&1"


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
    threads: 2
    resources:
        mem_mb=16000,
        runtime=120,
        gpu=1 if ON_GPU else 0,
    conda:
        "../../environment.yml"
    log:
        "logs/features/{space}/{dataset}/real.log",
    shell:
        "hmogbench features {input} --features {wildcards.space} --limit {params.images} {params.options}"
        " --device {params.device} --batch-size {params.batch} --out {output.features} --no-progress > {log} 2>&1"


rule fake_features:
    """Features of one run's samples."""
    input:
        images="results/samples/{dataset}/{model}/seed{seed}.npy",
        meta="results/samples/{dataset}/{model}/seed{seed}.json",
    output:
        features=kept("results/features/{space}/{dataset}/{model}/seed{seed}.npy", "keep_features"),
        meta=kept("results/features/{space}/{dataset}/{model}/seed{seed}.json", "keep_features"),
    params:
        device=config["device"],
        options=feature_options,
        batch=config["feature_batch_size"],
    group:
        "evaluate"
    threads: 2
    resources:
        mem_mb=16000,
        runtime=120,
        gpu=1 if ON_GPU else 0,
    conda:
        "../../environment.yml"
    log:
        "logs/features/{space}/{dataset}/{model}/seed{seed}.log",
    shell:
        "hmogbench features {input.images} --features {wildcards.space} {params.options}"
        " --device {params.device} --batch-size {params.batch} --out {output.features} --no-progress > {log} 2>&1"


rule score:
    """FD and 5-NN real/fake (percent) of one run in one space: results/metrics/<space>/<dataset>/<model>/seed<N>.json."""
    input:
        real="results/features/{space}/{dataset}/real.npy",
        real_meta="results/features/{space}/{dataset}/real.json",
        fake="results/features/{space}/{dataset}/{model}/seed{seed}.npy",
        fake_meta="results/features/{space}/{dataset}/{model}/seed{seed}.json",
    output:
        "results/metrics/{space}/{dataset}/{model}/seed{seed}.json",
    params:
        device=config["device"],
    group:
        "evaluate"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=30,
        gpu=1 if ON_GPU else 0,
    conda:
        "../../environment.yml"
    log:
        "logs/score/{space}/{dataset}/{model}/seed{seed}.log",
    shell:
        "hmogbench score --precomputed {input.real} {input.fake} --device {params.device} --out {output}"
        " --no-progress > {log} 2>&1"
