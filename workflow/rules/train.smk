# Training (thesis 5.4-5.5): every (dataset, model) of the grid, once per seed.
# Default: one job per (dataset, model) trains all seeds (`hmogbench train --seeds ...`, batched where the
# model allows it); `batch_seeds: false` gives one job per seed. A re-run job resumes from checkpoints.

if config["batch_seeds"]:

    rule train:
        """All seeds of one (dataset, model) in one job: results/runs/<dataset>/<model>/seed<N>/."""
        input:
            train_data,
        output:
            expand("results/runs/{{dataset}}/{{model}}/seed{seed}/generator.pt", seed=SEEDS),
        params:
            options=train_options,
            seeds=" ".join(map(str, SEEDS)),
            batching=batch_options(),
            out="results/runs/{dataset}/{model}",
        threads: threads_of("train")
        resources:
            **resources_of("train"),
        conda:
            "../../environment.yml"
        log:
            "logs/train/{dataset}/{model}.log",
        shell:
            "exec hmogbench train --data {input} {params.options} --seeds {params.seeds} {params.batching}"
            " --out {params.out}"
            " --no-progress > {log} 2>&1"

else:

    rule train:
        """One seed of one (dataset, model)."""
        input:
            train_data,
        output:
            "results/runs/{dataset}/{model}/seed{seed}/generator.pt",
        params:
            options=train_options,
            out="results/runs/{dataset}/{model}",
        threads: threads_of("train")
        resources:
            **resources_of("train"),
        conda:
            "../../environment.yml"
        log:
            "logs/train/{dataset}/{model}/seed{seed}.log",
        shell:
            "exec hmogbench train --data {input} {params.options} --seeds {wildcards.seed} --out {params.out}"
            " --no-progress > {log} 2>&1"
