"""Evaluation (thesis 2.5, 5.2.4): Fréchet distance and the k-NN leave-one-out score in named feature spaces.

``score(real, fake, features=...)`` is the one-call API; the modules hold one step each: ``inputs`` (image
sets), ``spaces`` (feature spaces and their networks), ``weights`` (weights files and their hashes),
``features`` (batched extraction), ``cache`` (real-set features), ``fid`` and ``knn`` (the scores).
"""

from .features import extract_features
from .fid import fid_from_features, frechet_distance, statistics
from .inputs import load_images
from .knn import KnnScore, knn_score, real_neighbour_counts
from .score import fd_name, score, score_features
from .spaces import SPACES, Extractor, load_space, thesis_preprocess

__all__ = ["SPACES", "Extractor", "KnnScore", "extract_features", "fd_name", "fid_from_features",
           "frechet_distance", "knn_score", "load_images", "load_space", "real_neighbour_counts", "score",
           "score_features", "statistics", "thesis_preprocess"]
