"""``hmogbench score REAL FAKE``: Fréchet distance, k-NN scores, KID and precision/recall/density/coverage of two
image sets (or of two feature
files; REAL may be a statistics .npz), ``hmogbench score --save-stats IMAGES OUT.npz``: one set's statistics in
pytorch-fid's format, and ``hmogbench features IMAGES --out X.npy``: one set's features, for the workflow."""

from __future__ import annotations

import argparse
import json
import os

from ..registry.feature_spaces import SPACES, spaces_with_weights
from ..runtime.device import DEVICE_HELP
from .kid import MIN_SUBSET_SIZE
from .knn import RULES
from .prdc import K_DC, K_PR, minimum_size, prdc_text

CACHE_ENV_VAR = "HMOGBENCH_FEATURE_CACHE"
IMAGES_EXPECTED = "a folder of images or a uint8 .npy/.npz array"
FEATURES_EXPECTED = "a .npy feature file written by `hmogbench features`, with its .json sidecar"
STATS_NOTE = "REAL is a statistics file: {} needs features"
PRDC_NAME = "P/R/D/C"  # format_result's line of precision, recall, density and coverage


def require_inputs(what: str, expected: str, **paths: str) -> None:
    """Every input path (by its argument's name: REAL=..., FAKE=...) must exist; checked before any network or
    weights are looked up. The first missing one raises FileNotFoundError:
    '<what> <path> does not exist (<ARGUMENT>: expected <expected>)'."""
    from pathlib import Path

    for argument, path in paths.items():
        if not Path(path).exists():
            raise FileNotFoundError(f"{what} {path} does not exist ({argument}: expected {expected})")


def add_speed_options(p: argparse.ArgumentParser) -> None:
    """The opt-in speed switches of the Inception networks (all off: the fp32 reference features)."""
    p.add_argument("--precision", default="fp32", choices=("fp32", "tf32", "bf16", "fp16"),
                   help="opt-in speed: run the network under autocast in bf16/fp16, or on a GPU's TF32 tensor "
                        "cores (default fp32, the reference, TF32 off; benchmarks/bench_features.py measures the "
                        "difference; the FD is then named with it)")
    p.add_argument("--channels-last", action="store_true", help="opt-in speed: channels-last memory format")
    p.add_argument("--compile", metavar="MODE", help="opt-in speed: torch.compile the network with this mode")


def add_score_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "score", help="FID (or FD in another feature space), k-NN real/fake scores, KID and precision/recall/"
                      "density/coverage of two image sets",
        description="Score FAKE against REAL. Each is a folder of image files (png, jpg, ...; not searched "
                    "recursively) or a uint8 .npy/.npz array N x H x W [x C]. REAL may instead be a statistics "
                    "file: a .npz with float64 'mu' (D,) and 'sigma' (D, D), pytorch-fid's --save-stats format; "
                    "then only the FD is computed (the k-NN, KID and P/R/D/C need features). "
                    f"Precision and recall use k = {K_PR} (Kynkäänniemi et al. 2019), density and coverage k = {K_DC} "
                    f"(Naeem et al. 2020); they need at least {minimum_size()} images per set (docs/metrics.md). "
                    "With --save-stats, as pytorch-fid's: `hmogbench score --save-stats IMAGES OUT.npz` writes "
                    "the statistics of the image set IMAGES in the chosen feature space to OUT.npz (and "
                    "OUT.json: space, weights, images), and scores nothing.")
    p.add_argument("real", help="real images: folder or .npy/.npz, or a statistics .npz (mu, sigma) (with "
                                "--precomputed: a feature file or a statistics .npz; with --save-stats: IMAGES)")
    p.add_argument("fake", help="generated images: folder or .npy/.npz (with --precomputed: a feature file; with "
                                "--save-stats: OUT.npz, not overwritten)")
    p.add_argument("--precomputed", action="store_true",
                   help="REAL and FAKE are feature files written by `hmogbench features` (same space and weights)")
    p.add_argument("--save-stats", action="store_true",
                   help="save the mean and covariance of IMAGES (the first argument) to OUT.npz (the second), "
                        "pytorch-fid's format, instead of scoring")
    p.add_argument("--features", default="fid-inception", choices=list(SPACES),
                   help="feature space (default: fid-inception, the standard FID; thesis-inception is the "
                        "thesis's extractor, the only one comparable with its tables)")
    p.add_argument("--k", type=int, default=5, help="neighbours in the k-NN score (default: 5, as the thesis)")
    p.add_argument("--kid-subsets", type=int, default=100, help="KID: random subsets (default: 100, torch-fidelity's)")
    p.add_argument("--kid-subset-size", type=int, default=1000,
                   help=f"KID: points per set in a subset (default: 1000, torch-fidelity's; at least "
                        f"{MIN_SUBSET_SIZE}; capped at the smaller set, with a warning)")
    p.add_argument("--knn-rule", default="soft", choices=RULES,
                   help="soft: mean fraction of same-kind neighbours (the thesis); majority: k-NN "
                        "majority-vote accuracy")
    p.add_argument("--weights", help="weights file of the space's network (default: " + " or ".join(
        f"${SPACES[name].weights.env_var} ({name})" for name in spaces_with_weights())
        + ", then resources/inception/, then torch.hub's cache)")
    p.add_argument("--download-weights", action="store_true",
                   help="if no weights file is found, download the official one into torch.hub's cache")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--batch-size", type=int, default=50, help="feature network batch (default %(default)s)")
    add_speed_options(p)
    p.add_argument("--cache-dir", default=os.environ.get(CACHE_ENV_VAR),
                   help=f"cache the REAL set's features here (default: ${CACHE_ENV_VAR}; unset: no cache)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--out", help="also write the result (JSON, with provenance) to this file")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_score)
    return p


def format_result(result: dict) -> str:
    """A score as aligned lines: the space, the FD, the k-NN scores, P/R/D/C, KID, the sets and, for N <= D, a
    note that the FD comes from a singular covariance. The k-NN, KID and P/R/D/C lines say n/a for a statistics
    file."""
    knn = f"{result['knn_k']}-NN" + (" (majority vote)" if result["knn_rule"] == "majority" else "")
    weights, dims = result["weights"], result["feature_dims"]
    about = f"{dims}-d"
    if weights:
        about += f"; weights {weights['status']}: {weights['path']} (sha256 {weights['sha256'][:12]}...)"
    kid_name = f"KID ({result['features']})"
    lines = [("features", f"{result['features']} ({about})"), (result["fd_name"], f"{result['fd']:.4f}")]
    if result.get("real_statistics"):
        lines += [(knn, f"n/a ({STATS_NOTE.format('the k-NN')})"), (PRDC_NAME, f"n/a ({STATS_NOTE.format('P/R/D/C')})"),
                  (kid_name, f"n/a ({STATS_NOTE.format('KID')})")]
        real = f"statistics file ({result['real']})" + (f" of {result['n_real']} images" if result["n_real"] else "")
    else:
        lines += [(f"{knn} real", f"{result['knn_real_pct']:.2f} %"),
                  (f"{knn} fake", f"{result['knn_fake_pct']:.2f} %")]
        if result.get("prdc"):
            lines.append((PRDC_NAME, prdc_text(result["prdc"])))
        if result.get("kid"):
            kid = result["kid"]
            lines.append((kid_name, f"{result['kid_mean']:.6f} ± {result['kid_std']:.6f} ({kid['subsets']} subsets "
                                    f"of {kid['subset_size']})"))
            if kid.get("warning"):
                lines.append(("KID warning", kid["warning"]))
        real = f"{result['n_real']} real ({result['real']})"
    lines.append(("images", f"{real}, {result['n_fake']} fake ({result['fake']})"))
    if result.get("covariance_rank_deficient"):
        n = min(x for x in (result["n_real"], result["n_fake"]) if x is not None)
        lines.append(("covariance", f"rank-deficient: the {dims}-d covariance of {n} samples (N <= D) has rank "
                                    f"<= {n - 1}, so the FD is computed from a singular covariance"))
    width = max(len(name) for name, _ in lines)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in lines)


def _default_device(requested: str | None) -> str:
    """'auto' (or nothing) resolved, the float32 switches set: hmogbench/runtime/device.py's policy."""
    from ..runtime.device import prepare_device

    return str(prepare_device(requested))


def score_feature_files(real: str, fake: str, *, k: int, rule: str, device: str, progress: bool,
                        kid_subsets: int = 100, kid_subset_size: int = 1000) -> dict:
    """``score``'s result for two files of ``hmogbench features`` (they must share space and weights;
    ``record.scored_against_real``), or for a statistics file REAL and a feature file FAKE (the FD only; a
    sidecar of REAL must match FAKE's)."""
    from .feature_files import load_features
    from .record import check_same_space, scored_against_real
    from .score import score_against_statistics
    from .stats import is_statistics_file, read_statistics_file, refuse_as_fake

    refuse_as_fake(fake)
    stats = read_statistics_file(real) if is_statistics_file(real) else None
    real_x, real_meta = (None, stats[2]) if stats else load_features(real)
    fake_x, fake_meta = load_features(fake)
    if real_meta is not None:  # a statistics file of pytorch-fid's has no sidecar
        check_same_space(real, real_meta, fake, fake_meta)
    if not stats:
        return scored_against_real(real_x, real_meta, fake_x, fake_meta.get("source"), k=k, rule=rule, device=device,
                                   progress=progress, kid_subsets=kid_subsets, kid_subset_size=kid_subset_size)
    result = score_against_statistics(stats, fake_x, k=k, rule=rule, name=real)
    return {"features": fake_meta["features"], "fd_name": fake_meta["fd_name"], **result,
            "weights": fake_meta.get("weights"), "precision": fake_meta.get("precision", "fp32"), "real_cache": None,
            "real_statistics": real, "real_source": (real_meta or {}).get("source"),
            "fake_source": fake_meta.get("source")}


def features_of(images_path: str, args: argparse.Namespace, device: str, limit: int | None = None) -> tuple:
    """(images (N, C, H, W), extractor, features (N, D)) of one image set, with the network options in ``args``
    (``--features``, ``--weights``, ``--batch-size``, the speed switches); ``limit``: the first LIMIT images."""
    from .features import extract_features
    from .inputs import load_images
    from .spaces import load_space

    images = load_images(images_path, progress=not args.no_progress)
    if limit is not None:
        if limit < 1:
            raise ValueError(f"--limit must be at least 1, got {limit}")
        images = images[:limit]
    extractor = load_space(args.features, weights=args.weights, device=device,
                           allow_download=getattr(args, "download_weights", False), precision=args.precision,
                           channels_last=args.channels_last, compile_mode=args.compile)
    return images, extractor, extract_features(images, extractor, batch_size=args.batch_size,
                                               progress=not args.no_progress)


NETWORK_OPTIONS = ("features", "weights", "batch_size", "precision", "channels_last", "compile")


def save_stats(args: argparse.Namespace) -> int:
    """``hmogbench score --save-stats IMAGES OUT.npz``: IMAGES' mean and covariance to OUT.npz (pytorch-fid's
    format; refused if OUT exists, as there) and the sidecar OUT.json (space, weights, images, provenance)."""
    from pathlib import Path

    from ..runtime.provenance import provenance, write_json_atomic
    from .cache import images_sha256
    from .fid import statistics
    from .score import space_meta
    from .stats import save_statistics

    if args.precomputed:
        raise ValueError("--save-stats takes an image set and an output file (IMAGES OUT.npz), not --precomputed "
                         "feature files")
    require_inputs("image set", IMAGES_EXPECTED, IMAGES=args.real)
    out = Path(args.fake)
    if out.suffix != ".npz":
        raise ValueError(f"{out}: --save-stats writes pytorch-fid's .npz format (OUT must end in .npz)")
    if out.exists():
        raise ValueError(f"{out} already exists (--save-stats, as pytorch-fid's, does not overwrite it)")
    device = _default_device(args.device)
    images, extractor, features = features_of(args.real, args, device)
    config = {"images": args.real, "out": args.fake, **{key: getattr(args, key) for key in NETWORK_OPTIONS}}
    meta = {**space_meta(extractor), "images": args.real, "n": int(len(features)),
            "images_sha256": images_sha256(images), "provenance": provenance(config, device)}
    save_statistics(out, *statistics(features), meta)
    if args.out:
        write_json_atomic(args.out, meta)
    print(json.dumps(meta, indent=2, sort_keys=True, default=str) if args.json else
          f"{extractor.space.name}: statistics (mu, sigma) of {len(features)} images, {features.shape[1]}-d -> {out}")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from ..runtime.provenance import provenance, write_json_atomic
    from .kid import check_kid_options
    from .score import score

    if args.save_stats:
        return save_stats(args)
    what = ("feature file", FEATURES_EXPECTED) if args.precomputed else ("image set", IMAGES_EXPECTED)
    require_inputs(*what, REAL=args.real, FAKE=args.fake)
    check_kid_options(args.kid_subsets, args.kid_subset_size)
    device = _default_device(args.device)
    kid_options = {"kid_subsets": args.kid_subsets, "kid_subset_size": args.kid_subset_size}
    if args.precomputed:
        result = score_feature_files(args.real, args.fake, k=args.k, rule=args.knn_rule, device=device,
                                     progress=not args.no_progress, **kid_options)
    else:
        result = score(args.real, args.fake, features=args.features, k=args.k, rule=args.knn_rule,
                       weights=args.weights, device=device, batch_size=args.batch_size, cache_dir=args.cache_dir,
                       progress=not args.no_progress, allow_download=args.download_weights,
                       precision=args.precision, channels_last=args.channels_last, compile_mode=args.compile,
                       **kid_options)
    result = {**result, "real": args.real, "fake": args.fake}
    # with --precomputed the network options played no part: the feature files' sidecars say how they were made
    keys = ("real", "fake", "precomputed", "k", "knn_rule", "kid_subsets", "kid_subset_size") + (
        () if args.precomputed else NETWORK_OPTIONS)
    config = {key: getattr(args, key) for key in keys}
    record = {**result, "provenance": provenance(config, device)}
    if args.out:
        write_json_atomic(args.out, record)
    print(json.dumps(record, indent=2, sort_keys=True, default=str) if args.json else format_result(result))
    return 0


def add_features_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "features", help="features of one image set in a feature space, to a .npy with a JSON sidecar",
        description="Extract IMAGES' features (float32 N x D) into OUT (.npy) and OUT's .json sidecar (space, "
                    "weights, images' sha256, and the images' own sidecar when they have one).")
    p.add_argument("images", help="folder of images or uint8 .npy/.npz N x H x W [x C]")
    p.add_argument("--features", default="fid-inception", choices=list(SPACES), help="feature space")
    p.add_argument("--out", required=True, help="output .npy (its sidecar: same name, .json)")
    p.add_argument("--limit", type=int, help="use only the first LIMIT images")
    p.add_argument("--weights", help="weights file of the space's network (as for `hmogbench score`)")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--batch-size", type=int, default=50, help="feature network batch (default %(default)s)")
    add_speed_options(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_features)
    return p


def cmd_features(args: argparse.Namespace) -> int:
    from ..runtime.provenance import provenance
    from .cache import images_sha256
    from .feature_files import read_sidecar, save_features
    from .score import space_meta

    require_inputs("image set", IMAGES_EXPECTED, IMAGES=args.images)
    device = _default_device(args.device)
    images, extractor, features = features_of(args.images, args, device, limit=args.limit)
    config = {key: getattr(args, key) for key in ("images", "limit", *NETWORK_OPTIONS)}
    meta = {**space_meta(extractor), "images": args.images, "images_shape": list(images.shape),
            "images_sha256": images_sha256(images),
            "source": read_sidecar(args.images) if str(args.images).endswith(".npy") else None,
            "provenance": provenance(config, device)}
    save_features(args.out, features, meta)
    print(f"{args.features}: {features.shape[0]} x {features.shape[1]} features -> {args.out}")
    return 0
