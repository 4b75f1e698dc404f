# Data preparation (thesis 5.1): raw files -> results/data/<set>/{train,test}.npy + manifest.json.
rule prepare_data:
    """One image set: check the raw files, crop/resize, split, write uint8 arrays and a manifest."""
    input:
        fixture_marker,
    output:
        train=fill(paths.PREPARED, split="train"),
        test=fill(paths.PREPARED, split="test"),
        manifest=paths.MANIFEST,
    params:
        raw_dir=raw_dir_of,
        out=lambda wildcards, output: Path(output.manifest).parents[1],  # paths.DATA_ROOT
        seed=config["split_seed"],
    threads: threads_of("prepare_data")
    resources:
        **resources_of("prepare_data"),
    conda:
        "../../environment.yml"
    log:
        "logs/data/{dataset}.log",
    shell:
        "hmogbench data prepare {wildcards.dataset} --raw-dir {params.raw_dir} --out {params.out}"
        " --seed {params.seed} --workers {threads} --no-progress > {log} 2>&1"


rule data_fixture:
    """A small synthetic stand-in in a set's official on-disk layout (for sets listed in `fixtures`)."""
    output:
        paths.FIXTURE,
    params:
        dataset=fixture_set,
        raw_dir=lambda wildcards, output: Path(output[0]).parents[1],  # paths.FIXTURE_ROOT
        images=config["fixture_images"],
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    conda:
        "../../environment.yml"
    log:
        "logs/data/fixture-{raw_subdir}.log",
    shell:
        "hmogbench data fixture {params.dataset} --raw-dir {params.raw_dir} --count {params.images} > {log} 2>&1"


rule prepare_all_data:
    """Every set of `datasets` in the config."""
    input:
        expand(paths.MANIFEST, dataset=config["datasets"]),


localrules:
    prepare_all_data,
