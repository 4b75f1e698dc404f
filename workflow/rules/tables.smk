# Aggregation (thesis Tables 5.3-5.12): mean +- std over seeds, as LaTeX, Markdown and HTML, the diff against the
# published numbers (Markdown and HTML), and the extended tables (the thesis's rows with FD, KID, 5-NN, precision,
# recall, density, coverage; LaTeX, Markdown, HTML). Runs on the submitting machine (cheap).


rule tables:
    """tables/<dataset>.tex, .md and .diff.md from every metrics file of the data set's grid, and the .md files as
    HTML pages (the report shows those inline; the tables' page ends with the LaTeX as text); the extended tables
    tables/<dataset>.extended.md, .extended.tex and .extended.html (the report's third page)."""
    input:
        table_metrics,
    output:
        # one "format" label for all three pages: the report makes a label with two values, each on part of a
        # subcategory's entries, a toggle, and then finds no entry for either row
        tex=fill(paths.TABLE, ext="tex"),
        md=fill(paths.TABLE, ext="md"),
        diff=fill(paths.TABLE, ext="diff.md"),
        html=report(fill(paths.TABLE, ext="html"), caption="../report/tables.rst", category="{dataset}",
                    subcategory="tables", labels={"table": "regenerated tables", "format": "HTML"}),
        diff_html=report(fill(paths.TABLE, ext="diff.html"), caption="../report/diff.rst", category="{dataset}",
                         subcategory="tables", labels={"table": "diff against the thesis", "format": "HTML"}),
        extended_md=fill(paths.TABLE, ext="extended.md"),
        extended_tex=fill(paths.TABLE, ext="extended.tex"),
        extended_html=report(fill(paths.TABLE, ext="extended.html"), caption="../report/extended.rst",
                             category="{dataset}", subcategory="tables",
                             labels={"table": "extended table", "format": "HTML"}),
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
