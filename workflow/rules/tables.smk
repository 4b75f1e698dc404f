# Aggregation (thesis Tables 5.3-5.12): mean +- std over seeds, as LaTeX and Markdown, and the diff
# against the published numbers. Runs on the submitting machine (cheap).


rule tables:
    """tables/<dataset>.tex, .md and .diff.md from every metrics file of the data set's grid."""
    input:
        table_metrics,
    output:
        tex="tables/{dataset}.tex",
        md=report("tables/{dataset}.md", caption="../report/tables.rst", category="{dataset}", subcategory="tables",
                  labels={"table": "regenerated tables", "format": "Markdown"}),
        diff=report("tables/{dataset}.diff.md", caption="../report/diff.rst", category="{dataset}",
                    subcategory="tables", labels={"table": "diff against the thesis", "format": "Markdown"}),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../environment.yml"
    log:
        "logs/tables/{dataset}.log",
    shell:
        "hmogbench tables {wildcards.dataset} {input} --out-dir tables > {log} 2>&1"


rule all_tables:
    """The tables of every data set in the config."""
    input:
        expand("tables/{dataset}.diff.md", dataset=TABLE_SETS),


localrules:
    tables,
    all_tables,
