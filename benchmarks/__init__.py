"""The benchmarks of hmogbench: thin scripts over a small library (``benchmarks.lib``).

Run each from the repository root as a module, e.g. ``python -m benchmarks.bench_train --device cuda``: the
root is then on the import path, so ``hmogbench`` is importable even where it is not installed (a lent GPU
machine has the tree only). Nothing here is imported by ``hmogbench``.
"""
