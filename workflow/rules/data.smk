# Data preparation (thesis 5.1): raw files -> results/data/<set>/{train,test}.npy + manifest.json.


rule prepare_data:
    """One image set: check the raw files, crop/resize, split, write uint8 arrays and a manifest."""
    input:
        fixture_marker,
    output:
        train="results/data/{dataset}/train.npy",
        test="results/data/{dataset}/test.npy",
        manifest="results/data/{dataset}/manifest.json",
    wildcard_constraints:
        dataset="|".join(DATASETS),
    params:
        raw_dir=raw_dir_of,
        seed=config["split_seed"],
    threads: threads_of("prepare_data")
    resources:
        **resources_of("prepare_data"),
    conda:
        "../../environment.yml"
    log:
        "logs/data/{dataset}.log",
    shell:
        "hmogbench data prepare {wildcards.dataset} --raw-dir {params.raw_dir} --out results/data"
        " --seed {params.seed} --workers {threads} --no-progress > {log} 2>&1"


rule data_fixture:
    """A small synthetic stand-in in a set's official on-disk layout (for sets listed in `fixtures`)."""
    output:
        "resources/fixtures/{raw_subdir}/FIXTURE.json",
    params:
        dataset=fixture_set,
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
        "hmogbench data fixture {params.dataset} --raw-dir resources/fixtures --count {params.images} > {log} 2>&1"


rule prepare_all_data:
    """Every set of `datasets` in the config."""
    input:
        expand("results/data/{dataset}/manifest.json", dataset=config["datasets"]),


localrules:
    prepare_all_data,
