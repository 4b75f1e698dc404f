"""The toy experiments' grid (thesis 5.3, paper IV.A), torch-free for the workflow: the models the authors trained on
each toy set, the sets (hmogbench.toy.data makes them) and the latent size of each."""

TOY_MODELS = ("HME-L-3", "ME-L-8", "MADGAN-8", "MGAN-8", "MEGAN-8")
TOY_DATASETS = ("spiral", "gmm")
TOY_Z_DIM = {"spiral": 1, "gmm": 2}  # z's dimension: 1 for the spiral (a curve), 2 for the Gaussians
