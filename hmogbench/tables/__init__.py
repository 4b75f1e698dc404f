"""Thesis Tables 5.3-5.12 regenerated from a workflow's metrics, rendered and diffed against the thesis."""
