"""Interpretability figures of a trained ME or HME generator (thesis 5.6, paper IV.C).

``mixture.py``      a trained ME/HME seen as a tree of nodes (path probabilities, one leaf's image)
``responses.py``    soft counts, node / leaf average responses, top-gate draws
``gating_stats.py`` covariance / correlation of the leaf gates and the block-diagonality score
``truncation.py``   the paper's sampling truncation (drop the least likely 25% of z)
``outputs.py``      the names of the files a run gets (also read by the Snakemake rules)
``settings.py``     the figures' settings and their defaults (torch-free)
``figures.py``      everything for one checkpoint: figures (drawn by ``hmogbench.pictures.interpretability``),
                    figures.json, figures.md
``cli.py``          ``hmogbench figures RUN_DIR --out DIR``

Nothing heavy is imported here, so ``hmogbench.interpret.outputs`` stays cheap to import.
"""
