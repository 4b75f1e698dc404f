"""What the benchmark scripts share, one module per job (import the module you need; this file imports nothing):

- ``timing``: device synchronisation, timing a call, timing the generator steps of a training run;
- ``training``: the project's training loop as the workflow runs it (config, synthetic images, one run or a group);
- ``processes``: S training processes at once on one device, started together at a file barrier, each in a
  session of its own and killed with its process group at its deadline;
- ``device_probe``: what the figures were measured on, and the FLOP/s ceiling a lower bound divides by;
- ``standins``: networks with random weights in the FID and thesis Inception architectures (throughput only);
- ``records``: the JSON record with provenance, the JSON-lines log of gpu_check, error records;
- ``rates``: measured training rates as cases (gpu_check's lines, bench_train's record) and the nearest case
  of a grid configuration (estimate_grid);
- ``tables``: Markdown tables of the stored records and of gpu_check's lines (torch-free: ``summarise`` renders
  docs/performance.md).
"""
