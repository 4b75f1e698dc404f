"""`python tests/slurm_snakemake.py ARGS` = `snakemake ARGS`, with the SLURM plugin's status polls kept at 2 s.

For tests/test_slurm.py only. snakemake-executor-plugin-slurm (2.8.0) waits 40 s before its first status check
(``--slurm-init-seconds-before-status-checks``, set to 2 here) and then 10 s longer after every check that finds
no job finished (up to 180 s): right for a busy cluster, but in a test whose jobs take a minute it adds up to ~50 s
between a job's end and its successor's submission. This wrapper resets the wait to 2 s after every check; it
changes nothing else (which jobs are submitted, their arguments, how states are read and acted on)."""

from __future__ import annotations

import sys

POLL_S = 2


def keep_polls_short() -> None:
    from snakemake_executor_plugin_slurm import Executor

    checks = Executor.check_active_jobs

    async def check_active_jobs(self, active_jobs):
        async for job in checks(self, active_jobs):
            yield job
        self.next_seconds_between_status_checks = POLL_S

    Executor.check_active_jobs = check_active_jobs


if __name__ == "__main__":
    keep_polls_short()
    from snakemake.cli import main

    sys.argv = ["snakemake", "--slurm-init-seconds-before-status-checks", str(POLL_S), *sys.argv[1:]]
    main()
