# Aggregation (thesis Tables 5.3-5.12): mean +- std over seeds, as LaTeX and Markdown, and the diff
# against the published numbers. Runs on the submitting machine (cheap).


rule tables:
    """tables/<dataset>.tex, .md and .diff.md from every metrics file of the data set's grid."""
    input:
        table_metrics,
    output:
        tex=fill(paths.TABLE, ext="tex"),
        md=report(fill(paths.TABLE, ext="md"), caption="../report/tables.rst", category="{dataset}",
                  subcategory="tables", labels={"table": "regenerated tables", "format": "Markdown"}),
        diff=report(fill(paths.TABLE, ext="diff.md"), caption="../report/diff.rst", category="{dataset}",
                    subcategory="tables", labels={"table": "diff against the thesis", "format": "Markdown"}),
    params:
        out=lambda wildcards, output: Path(output.tex).parent,  # paths.TABLES_ROOT
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../environment.yml"
    log:
        "logs/tables/{dataset}.log",
    shell:
        "hmogbench tables {wildcards.dataset} {input} --out-dir {params.out} > {log} 2>&1"


rule all_tables:
    """The tables of every data set in the config."""
    input:
        expand(paths.TABLE, dataset=TABLE_SETS, ext="diff.md"),


localrules:
    tables,
    all_tables,
