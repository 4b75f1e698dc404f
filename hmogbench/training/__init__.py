"""Training: the one loop (``loop``), for one run (``runs``) or the seeds of a configuration (``seeds``,
batched in ``groups`` as ``stacked.StackedRuns``), with what a run writes and resumes from.

Modules, one job each:
  loop          the step loop (critic steps, G step, auxiliary step) and its session (resume, log, checkpoint)
  replicas      the ``Replicas`` protocol the loop drives, and ``OneRun`` (one run's G and D)
  stacked       ``StackedRuns``: S runs' parameters stacked, losses vmapped (or looped) over the runs
  groups        a batched group of seeds (``train_group``), and whether a configuration can be batched
  seeds         all seeds of a configuration (``train_seeds``): catch-up groups, fall-back one by one
  runs          one run (``train_gan``, ``train_from_config``)
  checkpoints   checkpoint.pt: optimisers, writing, reading, resume checks
  random_state  data order (``EpochSampler``), RNG states, where a run's noise comes from (``RunSetup``)
  finite        the device-side non-finite guard
  loss_log      losses.csv;  records: run.json;  files: a run directory's file names
  settings      ``LoopSettings``;  build: an image run's models from its config
  snapshots     snapshots/step<N>.pt: the generator every ``eval_every`` steps (FD over training)
  precision     ``train_precision``: fp32 / tf32 / bf16, what ran, the autocast of the losses, its name in tables
  preflight     what is checked before any set-up (``--out``, memory, a full length on a CPU)
"""

from .build import build_models, check_training_data, seed_everything
from .checkpoints import RESUMABLE_CHANGES, ResumeError
from .files import CHECKPOINT, GENERATOR, LOSSES, RUN_INFO, checkpoint_step, seed_dir
from .finite import NonFiniteLossError
from .groups import MODES, batching_unsupported, resolve_mode, train_group
from .loop import train_runs
from .random_state import EpochSampler, RunSetup, noise_generator
from .replicas import OneRun, Replicas
from .runs import train_from_config, train_gan
from .seeds import train_seeds
from .settings import LoopSettings, loop_settings
from .stacked import StackedRuns

__all__ = [
    "CHECKPOINT", "GENERATOR", "LOSSES", "MODES", "RESUMABLE_CHANGES", "RUN_INFO", "EpochSampler", "LoopSettings",
    "NonFiniteLossError", "OneRun", "Replicas", "ResumeError", "RunSetup", "StackedRuns", "batching_unsupported",
    "build_models", "check_training_data", "checkpoint_step", "loop_settings", "noise_generator", "resolve_mode",
    "seed_dir", "seed_everything", "train_from_config", "train_gan", "train_group", "train_runs", "train_seeds",
]
