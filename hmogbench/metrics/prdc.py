"""Improved precision and recall (Kynkäänniemi et al. 2019) and density and coverage (Naeem et al. 2020).

Each point's k-NN radius is the Euclidean distance to its k-th nearest neighbour within its own set, the point
itself excluded. With real features x_i (N, D), fake features y_j (M, D), radii r_k(x_i) and r_k(y_j):

- precision = fraction of fake points inside some real ball: any_i |y_j - x_i| <= r_3(x_i)  (k_pr = 3)
- recall    = fraction of real points inside some fake ball: any_j |x_i - y_j| <= r_3(y_j)  (k_pr = 3)
- density   = mean over fake points of #{i : |y_j - x_i| < r_5(x_i)} / 5  (k_dc = 5; may exceed 1)
- coverage  = fraction of real points whose nearest fake point lies inside their ball: min_j |x_i - y_j| < r_5(x_i)

"<=" for precision and recall as Kynkäänniemi et al.'s code and torch-fidelity (``metric_prc.py``), "<" for
density and coverage as Naeem et al.'s ``prdc`` package; the two differ only at exact ties of a distance and a
radius. Equal to ``prdc.compute_prdc`` (nearest_k = 5 for D/C, 3 for P/R) and to torch-fidelity's precision and
recall (tests/test_prdc.py).

Computed in float64 with torch on any device, features centred first (on the mean of both sets), squared
distances by the expanded formula in blocks of rows: at most ``DEFAULT_CHUNK_ELEMENTS`` (distances.py: 2^24 on CPU,
2^27 on CUDA) float64 distances at once (at least one row), so no full N x M matrix is ever held. Three passes:
real x real (both real radii), fake x fake (fake radii), real x fake (all four scores).

Measured by benchmarks/bench_prdc.py (results/bench/metrics_prdc_cpu.json) for N = M = 10,000, D = 2048 on the
2-core CPU (shared, load average ~5): 35.5 s wall, 33.8 s CPU (three 10,000 x 10,000 x 2048 float64 products,
1.2 TFLOP); peak resident memory of the whole process 1.3 GiB (features in float64: 2 x 156 MiB; one block of
1,677 rows: 128 MiB of distances and 16 MiB boolean masks). On a GPU a block is 2^27 distances (1 GiB): about
1.5 GiB of device memory for this size (not yet measured).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch

from .distances import DEFAULT_CHUNK_ELEMENTS, paired_features, squared_distance_blocks

K_PR, K_DC = 3, 5  # the papers' k: precision/recall (Kynkäänniemi et al.), density/coverage (Naeem et al.)


@dataclass(frozen=True)
class PrdcScore:
    """Precision, recall and coverage in [0, 1], density >= 0 (1 on average for fake like real), and how."""

    precision: float
    recall: float
    density: float
    coverage: float
    k_pr: int
    k_dc: int
    n_real: int
    n_fake: int

    def as_dict(self) -> dict:
        return asdict(self)


def prdc_text(prdc: dict) -> str:
    """A record's ``prdc`` entry as one line: 'precision 0.328, recall 0.913 (k = 3); density 0.290, coverage
    0.673 (k = 5)'."""
    return (f"precision {prdc['precision']:.3f}, recall {prdc['recall']:.3f} (k = {prdc['k_pr']}); "
            f"density {prdc['density']:.3f}, coverage {prdc['coverage']:.3f} (k = {prdc['k_dc']})")


def minimum_size(k_pr: int = K_PR, k_dc: int = K_DC) -> int:
    """The fewest points a set may hold: k + 1 for the larger k (a k-th neighbour besides the point itself)."""
    return max(k_pr, k_dc) + 1


def check_sizes(n_real: int, n_fake: int, k_pr: int = K_PR, k_dc: int = K_DC) -> None:
    """A one-line ValueError when either set holds fewer than ``minimum_size`` points."""
    least = minimum_size(k_pr, k_dc)
    if min(n_real, n_fake) < least:
        raise ValueError(f"precision/recall/density/coverage: the sets hold {n_real} real and {n_fake} fake points; "
                         f"expected at least {least} in each (k + 1 for k = {max(k_pr, k_dc)}; docs/metrics.md)")


def _centred(real, fake, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, D) and (M, D) as float64 copies on ``device``, centred on the mean of both; one-line errors otherwise."""
    real, fake = paired_features(real, fake, device, "precision/recall/density/coverage", copy=True)
    centre = (real.sum(dim=0) + fake.sum(dim=0)) / (len(real) + len(fake))
    return real.sub_(centre), fake.sub_(centre)


def _blocks(rows: torch.Tensor, cols: torch.Tensor, block_elements: int):
    """``squared_distance_blocks`` with as many rows per block as ``block_elements`` distances allow (>= 1)."""
    return squared_distance_blocks(rows, cols, max(1, block_elements // len(cols)))


def kth_neighbour_radii(x: torch.Tensor, ks: tuple[int, ...], block_elements: int) -> list[torch.Tensor]:
    """Per k in ``ks``: each point's squared distance (N,) to its k-th nearest other point of ``x`` (N, D)."""
    out = torch.empty((len(x), max(ks)), dtype=x.dtype, device=x.device)
    for start, d2 in _blocks(x, x, block_elements):
        rows = torch.arange(len(d2), device=x.device)
        d2[rows, rows + start] = torch.inf  # the point itself is not its own neighbour
        out[start:start + len(d2)] = d2.topk(max(ks), dim=1, largest=False).values
    return [out[:, k - 1] for k in ks]


def prdc_score(real: np.ndarray | torch.Tensor, fake: np.ndarray | torch.Tensor, *, k_pr: int = K_PR,
               k_dc: int = K_DC, device: str | torch.device = "cpu",
               block_elements: int | None = None) -> PrdcScore:
    """Precision, recall (k_pr), density and coverage (k_dc) of feature sets real (N, D) and fake (M, D); see the
    module text. ``block_elements``: float64 distances per block (default ``DEFAULT_CHUNK_ELEMENTS`` of the
    device's type); every result is the same whatever the block."""
    if min(k_pr, k_dc) < 1:
        raise ValueError(f"precision/recall/density/coverage: expected k >= 1, got k_pr={k_pr}, k_dc={k_dc}")
    check_sizes(len(real), len(fake), k_pr, k_dc)
    device = torch.device(device)
    block = block_elements or DEFAULT_CHUNK_ELEMENTS.get(device.type, DEFAULT_CHUNK_ELEMENTS["cpu"])
    x, y = _centred(real, fake, device)
    r_pr, r_dc = kth_neighbour_radii(x, (k_pr, k_dc), block)
    (f_pr,) = kth_neighbour_radii(y, (k_pr,), block)
    recall = torch.zeros(len(x), dtype=torch.bool, device=device)
    covered = torch.zeros(len(x), dtype=torch.bool, device=device)
    precise = torch.zeros(len(y), dtype=torch.bool, device=device)
    inside = torch.zeros(len(y), dtype=torch.float64, device=device)  # per fake point: real balls it lies in
    for start, d2 in _blocks(x, y, block):
        rows = slice(start, start + len(d2))
        recall[rows] = (d2 <= f_pr[None, :]).any(dim=1)
        covered[rows] = d2.min(dim=1).values < r_dc[rows]
        precise |= (d2 <= r_pr[rows, None]).any(dim=0)
        inside += (d2 < r_dc[rows, None]).sum(dim=0)
    return PrdcScore(float(precise.double().mean()), float(recall.double().mean()), float(inside.mean() / k_dc),
                     float(covered.double().mean()), k_pr, k_dc, len(x), len(y))
