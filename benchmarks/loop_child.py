"""One measurement of ``bench_loop_cpu``, run inside one tree: ``python <this file> SPEC`` with cwd and
PYTHONPATH = that tree, so that ``import hmogbench`` is that tree's code. It imports nothing else from a tree:
the step timing (``benchmarks/lib/timing.py``) is loaded from this checkout by its file path. Prints its result
after ``MARKER`` as one JSON line.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import statistics
import sys
import tempfile
from pathlib import Path

MARKER = "BENCH_LOOP_CPU_RESULT "
TIMING = Path(__file__).resolve().parent / "lib" / "timing.py"


def _isolate() -> None:
    """Drop the editable install's import finder: it would serve a module the tree lacks (hmogbench.training in
    the reference tree) from the installed working tree. PYTHONPATH (the tree) then answers every hmogbench import."""
    sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "__module__", "").startswith("__editable__")]


def _time_steps():
    """``time_steps`` of this checkout's benchmarks/lib/timing.py (by path: a tree's own benchmarks do not count)."""
    spec = importlib.util.spec_from_file_location("bench_loop_cpu_timing", TIMING)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.time_steps


def _tree_api():
    """(training module, train_from_config, train_seeds, TrainConfig) of the tree this child runs in, whichever
    layout it has: the training loop in hmogbench.training (after the rewrite) or hmogbench.train (before it), the
    config in hmogbench/training/config.py (after the layers were grouped) or hmogbench/config.py (before). The
    module names are chosen by the files the tree has: do not rewrite them to one layout."""
    import hmogbench

    package = Path(hmogbench.__file__).parent
    name = "hmogbench.training" if (package / "training").is_dir() or (package / "training.py").exists() \
        else "hmogbench.train"
    config = "hmogbench.training.config" if (package / "training" / "config.py").exists() else "hmogbench.config"
    module = importlib.import_module(name)
    return module, module.train_from_config, module.train_seeds, importlib.import_module(config).TrainConfig


def child(spec: dict) -> dict:
    """Train ``spec``'s case once; seconds of each timed generator step (wall, and this process's CPU time)."""
    import torch

    torch.set_num_threads(spec["threads"])
    _isolate()
    import hmogbench

    module, train_from_config, train_seeds, TrainConfig = _tree_api()
    total = spec["warmup"] + spec["steps"] + 1
    cfg = TrainConfig.from_dict({"model": spec["model"], "image_size": spec["image_size"],
                                 "channels": spec["channels"], "batch_size": spec["batch_size"], "steps": total,
                                 "checkpoint_every": 10 ** 9, "log_every": 10, "device": "cpu",
                                 "seed": spec["seeds"][0]})
    data = torch.randint(0, 256, (max(4 * spec["batch_size"], 512), spec["channels"], spec["image_size"],
                                  spec["image_size"]), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))

    def train(on_step):
        with tempfile.TemporaryDirectory() as tmp:
            if len(spec["seeds"]) == 1:
                return train_from_config(cfg, data, tmp, progress=False, on_step=on_step)
            return train_seeds(cfg, spec["seeds"], data, tmp, progress=False, batch_mode="loop", on_step=on_step)

    times = _time_steps()(train, spec["warmup"], spec["steps"], torch.device("cpu"))
    wall = times["steps"]
    return {"hmogbench_file": hmogbench.__file__, "module": module.__name__, "module_file": module.__file__,
            "torch_threads": torch.get_num_threads(),
            "s_per_step_median": statistics.median(wall), "s_per_step_mean": statistics.fmean(wall),
            "cpu_s_per_step_median": statistics.median(times["cpu_steps"]), "steps_s": wall}


if __name__ == "__main__":
    print(MARKER + json.dumps(child(json.loads(sys.argv[1]))), flush=True)
