"""The registries everything else derives from, torch-free: model families (``families.py``), feature spaces
(``feature_spaces.py``), data sets (``datasets.py``) and the published thesis numbers (``published.py``)."""
