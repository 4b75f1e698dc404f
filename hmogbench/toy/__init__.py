"""Toy 2-D experiments of thesis 5.3 and paper IV.A (spiral, mixture of five Gaussians)."""
