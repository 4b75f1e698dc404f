# Aggregation (thesis Tables 5.3-5.12): mean +- std over seeds, as LaTeX and Markdown, and the diff
# against the published numbers. Runs on the submitting machine (cheap).


rule tables:
    """tables/<dataset>.tex, .md and .diff.md from every metrics file of the data set's grid."""
    input:
        table_metrics,
    output:
        tex="tables/{dataset}.tex",
        md="tables/{dataset}.md",
        diff="tables/{dataset}.diff.md",
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
