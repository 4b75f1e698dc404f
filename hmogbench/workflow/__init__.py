"""What the Snakemake workflow (``workflow/``) reads while it parses, torch-free: where its files live
(``paths.py``), its config schema generated from the registries (``config_schema.py``) and the scheduler
resources of a job (``job_resources.py``)."""
