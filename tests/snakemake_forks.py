"""Many short `snakemake` runs (dry runs, config errors) without paying Snakemake's start-up each time.

``python tests/snakemake_forks.py`` imports Snakemake, its SLURM plugin and what the workflow imports once (about
1.5 s of CPU), then serves requests, one JSON line each on stdin (``{"argv": [...], "cwd": ..., "env": {...}}``):
it forks, and the child -- a fresh copy of that single-threaded, never-used process -- runs
``snakemake.cli.main(argv)`` in ``cwd`` with ``env``, its stdout and stderr in files; the reply line gives the exit
status and the files. The same arguments give the same run as ``python -m snakemake ARGV`` (which calls that
``main``): only the imports are shared. ``run`` is the tests' side (tests/workflow_runs.py)."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
from pathlib import Path


def _serve() -> None:
    import snakemake.api  # noqa: F401  (imported once, shared by every fork)
    import snakemake.cli
    import snakemake.scheduling.job_scheduler  # noqa: F401
    import snakemake_executor_plugin_slurm  # noqa: F401  (the profile's executor)
    import yaml  # noqa: F401

    for line in sys.stdin:
        request = json.loads(line)
        out = tempfile.NamedTemporaryFile("w", delete=False, suffix=".out")
        err = tempfile.NamedTemporaryFile("w", delete=False, suffix=".err")
        pid = os.fork()
        if pid == 0:  # the child: one snakemake run, then gone
            code = 1
            try:
                os.chdir(request["cwd"])
                os.environ.clear()
                os.environ.update(request["env"])
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
                sys.argv = ["snakemake", *request["argv"]]
                snakemake.cli.main(request["argv"])
            except SystemExit as exc:  # as the interpreter ends on it: an int is the status, else printed, 1
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                if exc.code is not None and not isinstance(exc.code, int):
                    print(exc.code, file=sys.stderr)
            except BaseException:  # noqa: BLE001 (what the interpreter would print)
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        out.close()
        err.close()
        _, status = os.waitpid(pid, 0)
        print(json.dumps({"returncode": os.waitstatus_to_exitcode(status), "stdout": out.name, "stderr": err.name}),
              flush=True)


class Forks:
    """The tests' side: one server per test process, started on the first run."""

    def __init__(self) -> None:
        self._server: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def run(self, argv: list[str], cwd: Path, env: dict, timeout: float) -> subprocess.CompletedProcess:
        """`snakemake ARGV` in ``cwd`` with ``env`` -> its exit status, stdout and stderr; TimeoutExpired (the
        server and its run killed) after ``timeout`` seconds, as subprocess.run would raise it."""
        with self._lock:
            if self._server is None or self._server.poll() is not None:
                self._server = subprocess.Popen([sys.executable, __file__], stdin=subprocess.PIPE,
                                                stdout=subprocess.PIPE, text=True, env=env, start_new_session=True)
            self._server.stdin.write(json.dumps({"argv": argv, "cwd": str(cwd), "env": env}) + "\n")
            self._server.stdin.flush()
            if not select.select([self._server.stdout], [], [], timeout)[0]:
                os.killpg(self._server.pid, signal.SIGKILL)  # the server and the fork running the request
                self._server.wait()
                raise subprocess.TimeoutExpired(["snakemake", *argv], timeout)
            reply = json.loads(self._server.stdout.readline())
        texts = [Path(reply[name]).read_text() for name in ("stdout", "stderr")]
        for name in ("stdout", "stderr"):
            Path(reply[name]).unlink()
        return subprocess.CompletedProcess(["snakemake", *argv], reply["returncode"], *texts)


if __name__ == "__main__":
    _serve()
