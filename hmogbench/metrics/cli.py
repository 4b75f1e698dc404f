"""``hmogbench score REAL FAKE``: Fréchet distance and k-NN scores of two image sets (or of two feature
files), and ``hmogbench features IMAGES --out X.npy``: one set's features, for the workflow."""

from __future__ import annotations

import argparse
import json
import os

from ..device import DEVICE_HELP
from .knn import RULES
from .spaces import SPACES

CACHE_ENV_VAR = "HMOGBENCH_FEATURE_CACHE"
IMAGES_EXPECTED = "a folder of images or a uint8 .npy/.npz array"
FEATURES_EXPECTED = "a .npy feature file written by `hmogbench features`, with its .json sidecar"


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
        "score", help="FID (or FD in another feature space) and k-NN real/fake scores of two image sets",
        description="Score FAKE against REAL. Each is a folder of image files (png, jpg, ...; not searched "
                    "recursively) or a uint8 .npy/.npz array N x H x W [x C].")
    p.add_argument("real", help="real images: folder or .npy/.npz (with --precomputed: a feature file)")
    p.add_argument("fake", help="generated images: folder or .npy/.npz (with --precomputed: a feature file)")
    p.add_argument("--precomputed", action="store_true",
                   help="REAL and FAKE are feature files written by `hmogbench features` (same space and weights)")
    p.add_argument("--features", default="fid-inception", choices=list(SPACES),
                   help="feature space (default: fid-inception, the standard FID; thesis-inception is the "
                        "thesis's extractor, the only one comparable with its tables)")
    p.add_argument("--k", type=int, default=5, help="neighbours in the k-NN score (default: 5, as the thesis)")
    p.add_argument("--knn-rule", default="soft", choices=RULES,
                   help="soft: mean fraction of same-kind neighbours (the thesis); majority: k-NN "
                        "majority-vote accuracy")
    p.add_argument("--weights", help="weights file of the Inception space (default: $HMOGBENCH_FID_WEIGHTS or "
                                     "$HMOGBENCH_THESIS_INCEPTION_WEIGHTS, then resources/inception/, then "
                                     "torch.hub's cache)")
    p.add_argument("--download-weights", action="store_true",
                   help="if no weights file is found, download the official one into torch.hub's cache")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--batch-size", type=int, default=50)
    add_speed_options(p)
    p.add_argument("--cache-dir", default=os.environ.get(CACHE_ENV_VAR),
                   help=f"cache the REAL set's features here (default: ${CACHE_ENV_VAR}; unset: no cache)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--out", help="also write the result (JSON, with provenance) to this file")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_score)
    return p


def format_result(result: dict) -> str:
    k, rule = result["knn_k"], result["knn_rule"]
    knn = f"{k}-NN" + (" (majority vote)" if rule == "majority" else "")
    weights = result["weights"]
    about = f"{result['feature_dims']}-d"
    if weights:
        about += f"; weights {weights['status']}: {weights['path']} (sha256 {weights['sha256'][:12]}...)"
    lines = [("features", f"{result['features']} ({about})"),
             (result["fd_name"], f"{result['fd']:.4f}"),
             (f"{knn} real", f"{result['knn_real_pct']:.2f} %"),
             (f"{knn} fake", f"{result['knn_fake_pct']:.2f} %"),
             ("images", f"{result['n_real']} real ({result['real']}), {result['n_fake']} fake ({result['fake']})")]
    width = max(len(name) for name, _ in lines)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in lines)


def _default_device(requested: str | None) -> str:
    """'auto' (or nothing) resolved, the float32 switches set: hmogbench/device.py's policy."""
    from ..device import prepare_device

    return str(prepare_device(requested))


def score_feature_files(real: str, fake: str, *, k: int, rule: str, device: str, progress: bool) -> dict:
    """``score``'s result for two files of ``hmogbench features``; they must share space and weights."""
    from .feature_files import load_features
    from .score import score_features

    (real_x, real_meta), (fake_x, fake_meta) = load_features(real), load_features(fake)
    for key in ("features", "fd_name"):
        if real_meta[key] != fake_meta[key]:
            raise ValueError(f"{real} and {fake} differ in {key}: {real_meta[key]!r} vs {fake_meta[key]!r}")
    weights = [(m.get("weights") or {}).get("sha256") for m in (real_meta, fake_meta)]
    if weights[0] != weights[1]:
        raise ValueError(f"{real} and {fake} come from different weights files (sha256 {weights[0]} vs {weights[1]})")
    result = {"features": real_meta["features"], "fd_name": real_meta["fd_name"]}
    result |= score_features(real_x, fake_x, k=k, rule=rule, device=device, progress=progress)
    return {**result, "weights": real_meta.get("weights"), "precision": real_meta.get("precision", "fp32"),
            "real_cache": None,
            "real_source": real_meta.get("source"), "fake_source": fake_meta.get("source")}


def cmd_score(args: argparse.Namespace) -> int:
    from ..provenance import provenance, write_json_atomic
    from .score import score

    what = ("feature file", FEATURES_EXPECTED) if args.precomputed else ("image set", IMAGES_EXPECTED)
    require_inputs(*what, REAL=args.real, FAKE=args.fake)
    device = _default_device(args.device)
    if args.precomputed:
        result = score_feature_files(args.real, args.fake, k=args.k, rule=args.knn_rule, device=device,
                                     progress=not args.no_progress)
    else:
        result = score(args.real, args.fake, features=args.features, k=args.k, rule=args.knn_rule,
                       weights=args.weights, device=device, batch_size=args.batch_size, cache_dir=args.cache_dir,
                       progress=not args.no_progress, allow_download=args.download_weights,
                       precision=args.precision, channels_last=args.channels_last, compile_mode=args.compile)
    result = {**result, "real": args.real, "fake": args.fake}
    # with --precomputed the network options played no part: the feature files' sidecars say how they were made
    keys = ("real", "fake", "precomputed", "k", "knn_rule") + (() if args.precomputed else (
        "features", "weights", "batch_size", "precision", "channels_last", "compile"))
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
    p.add_argument("--weights", help="weights file of the Inception space (as for `hmogbench score`)")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--batch-size", type=int, default=50)
    add_speed_options(p)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_features)
    return p


def cmd_features(args: argparse.Namespace) -> int:
    from ..provenance import provenance
    from .cache import images_sha256
    from .feature_files import read_sidecar, save_features
    from .features import extract_features
    from .inputs import load_images
    from .score import fd_name
    from .spaces import load_space

    require_inputs("image set", IMAGES_EXPECTED, IMAGES=args.images)
    device = _default_device(args.device)
    images = load_images(args.images, progress=not args.no_progress)
    if args.limit is not None:
        if args.limit < 1:
            raise ValueError(f"--limit must be at least 1, got {args.limit}")
        images = images[: args.limit]
    extractor = load_space(args.features, weights=args.weights, device=device, precision=args.precision,
                           channels_last=args.channels_last, compile_mode=args.compile)
    features = extract_features(images, extractor, batch_size=args.batch_size, progress=not args.no_progress)
    config = {key: getattr(args, key) for key in ("images", "features", "limit", "weights", "batch_size",
                                                  "precision", "channels_last", "compile")}
    meta = {"features": extractor.space.name, "fd_name": fd_name(extractor), "precision": extractor.precision,
            "weights": extractor.weights.as_dict() if extractor.weights else None,
            "images": args.images, "images_shape": list(images.shape), "images_sha256": images_sha256(images),
            "source": read_sidecar(args.images) if str(args.images).endswith(".npy") else None,
            "provenance": provenance(config, device)}
    save_features(args.out, features, meta)
    print(f"{args.features}: {features.shape[0]} x {features.shape[1]} features -> {args.out}")
    return 0
