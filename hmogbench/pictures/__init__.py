"""Every picture the benchmark draws (matplotlib, Agg; one look, ``style.py``): regenerated vs published numbers
(``agreement.py``), training curves (``curves.py``), sample grids (``grid.py``), the interpretability figures of
an ME/HME checkpoint (``interpretability.py``), and ``hmogbench plot`` (``cli.py``)."""
