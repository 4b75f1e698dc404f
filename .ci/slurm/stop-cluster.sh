#!/usr/bin/env bash
# Stop the one-node SLURM cluster that .ci/slurm/start-cluster.sh started: slurmd, slurmctld, slurmdbd, MariaDB
# and munged, by their pid files in the state dir (SIGTERM, up to 20 s, then SIGKILL). Idempotent.
set -euo pipefail

STATE=${HMOGBENCH_SLURM_STATE:-/var/tmp/hmogbench-slurm}
RUN=$STATE/run
stopped=0

for entry in slurmd:slurmd.pid slurmctld:slurmctld.pid slurmdbd:slurmdbd.pid \
             mariadbd:mysql/mariadbd.pid munged:munge/munged.pid; do
  name=${entry%%:*} pidfile=$RUN/${entry#*:}
  pid=$(cat "$pidfile" 2>/dev/null) || continue
  # only a live process of that name: a stale pid file may name a reused pid
  if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]; then
    echo "stopping $name (pid $pid) ..."
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 40); do [ -d "/proc/$pid" ] || break; sleep 0.5; done
    if [ -d "/proc/$pid" ]; then echo "$name did not stop in 20 s: SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; fi
    stopped=$((stopped + 1))
  fi
  rm -f "$pidfile"
done

if [ $stopped -eq 0 ]; then echo "SLURM cluster not running: nothing to stop"; else echo "SLURM cluster stopped"; fi
