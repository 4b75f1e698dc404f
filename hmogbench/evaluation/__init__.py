"""``hmogbench sample`` and ``hmogbench evaluate``: samples of trained runs, scored in every feature space
(``job.py``; the metrics themselves are ``hmogbench.metrics``)."""
