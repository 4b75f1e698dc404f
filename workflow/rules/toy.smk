TOY_EPOCHS = config["toy_epochs"]


rule toy:
    """Toy experiments of thesis 5.3 / paper IV.A: both data sets, all five 8-generator models."""
    output:
        summary=report(paths.TOY_SUMMARY, caption="../report/toy.rst", category="toy", subcategory="summary",
                       labels={"figure": "summary table", "model": "all"}),
        figures=toy_figure_outputs(),
    params:
        epochs=TOY_EPOCHS,
        out=lambda wildcards, output: Path(output.summary).parent,  # paths.TOY_ROOT
    threads: 2
    resources:
        mem_mb=2000,
        runtime=120,
    conda:
        "../../environment.yml"
    log:
        "logs/toy.log",
    shell:
        "hmogbench toy --epochs {params.epochs} --out {params.out} --no-progress > {log} 2>&1"
