"""Pictures of a benchmark run: regenerated vs published numbers, training curves, sample grids."""
