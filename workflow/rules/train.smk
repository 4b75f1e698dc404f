# Training (thesis 5.2.2-5.2.3: architectures, hyperparameters): every (dataset, model) of the grid, once per seed.
# Default: one job per (dataset, model) trains all seeds (`hmogbench train --seeds ...`, batched where the
# model allows it); `batch_seeds: false` gives one job per seed (outputs, log and seeds: common.smk).
# A re-run job resumes from checkpoints.


rule train:
    """The seeds of one (dataset, model): results/runs/<dataset>/<model>/seed<N>/."""
    input:
        train_data,
    output:
        TRAIN_OUTPUT,
    params:
        options=train_options,
        seeds=seed_options,
        out=paths.RUNS,
    threads: threads_of("train")
    resources:
        **resources_of("train"),
    conda:
        "../../environment.yml"
    log:
        TRAIN_LOG,
    shell:
        "exec hmogbench train --data {input} {params.options} {params.seeds} --out {params.out}"
        " --no-progress > {log} 2>&1"
