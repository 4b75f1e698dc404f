"""``hmogbench score REAL FAKE``: Fréchet distance and k-NN scores of two image sets."""

from __future__ import annotations

import argparse
import json
import os

from .knn import RULES
from .spaces import SPACES

CACHE_ENV_VAR = "HMOGBENCH_FEATURE_CACHE"


def add_score_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "score", help="FID (or FD in another feature space) and k-NN real/fake scores of two image sets",
        description="Score FAKE against REAL. Each is a folder of image files (png, jpg, ...; not searched "
                    "recursively) or a uint8 .npy/.npz array N x H x W [x C].")
    p.add_argument("real", help="real images: folder or .npy/.npz")
    p.add_argument("fake", help="generated images: folder or .npy/.npz")
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
    p.add_argument("--device", help="torch device (default: cuda if available, else cpu)")
    p.add_argument("--batch-size", type=int, default=50)
    p.add_argument("--precision", default="fp32", choices=("fp32", "bf16", "fp16"),
                   help="opt-in speed: run the network under autocast in bf16/fp16 (default fp32, the reference; "
                        "benchmarks/bench_features.py measures the difference)")
    p.add_argument("--channels-last", action="store_true", help="opt-in speed: channels-last memory format")
    p.add_argument("--compile", metavar="MODE", help="opt-in speed: torch.compile the network with this mode")
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


def cmd_score(args: argparse.Namespace) -> int:
    import torch

    from ..provenance import provenance, write_json_atomic
    from .score import score

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    result = score(args.real, args.fake, features=args.features, k=args.k, rule=args.knn_rule,
                   weights=args.weights, device=device, batch_size=args.batch_size, cache_dir=args.cache_dir,
                   progress=not args.no_progress, allow_download=args.download_weights, precision=args.precision,
                   channels_last=args.channels_last, compile_mode=args.compile)
    result = {**result, "real": args.real, "fake": args.fake}
    config = {key: getattr(args, key) for key in ("real", "fake", "features", "k", "knn_rule", "weights",
                                                  "batch_size", "precision", "channels_last", "compile")}
    record = {**result, "provenance": provenance(config, device)}
    if args.out:
        write_json_atomic(args.out, record)
    print(json.dumps(record, indent=2, sort_keys=True, default=str) if args.json else format_result(result))
    return 0
