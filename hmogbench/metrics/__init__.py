"""Evaluation (thesis 2.5, 5.2.4): Fréchet distance, the k-NN leave-one-out score and KID in named feature spaces,
and (beyond the thesis) precision, recall, density and coverage.

``score(real, fake, features=...)`` is the one-call API; the modules hold one step each: ``inputs`` (image
sets), ``spaces`` (feature spaces and their networks), ``weights`` (weights files and their hashes),
``features`` (batched extraction), ``cache`` (real-set features), ``fid``, ``knn``, ``kid`` and ``prdc`` (the
scores), ``stats`` (statistics files in pytorch-fid's format).
"""

from .features import extract_features
from .fid import fid_from_features, frechet_distance, statistics, trace_sqrt_product
from .inputs import load_images
from .kid import KidScore, kid_score
from .knn import KnnScore, knn_score, real_neighbour_counts
from .prdc import PrdcScore, prdc_score
from .score import fd_name, score, score_features
from .spaces import SPACES, Extractor, load_space, thesis_preprocess
from .stats import is_statistics_file, load_statistics, save_statistics

__all__ = ["SPACES", "Extractor", "KidScore", "KnnScore", "PrdcScore", "extract_features", "fd_name",
           "fid_from_features", "frechet_distance", "is_statistics_file", "kid_score", "knn_score", "load_images",
           "load_space", "load_statistics", "prdc_score", "real_neighbour_counts", "save_statistics", "score",
           "score_features", "statistics", "thesis_preprocess", "trace_sqrt_product"]
