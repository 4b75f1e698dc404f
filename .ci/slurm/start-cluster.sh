#!/usr/bin/env bash
# Bring up a real one-node SLURM cluster with accounting (slurmdbd + MariaDB) on this machine, as root and
# without systemd: for CI, and for users who want to try the project's SLURM profile.
#
# CI/TEST MACHINES ONLY: this overwrites /etc/slurm/slurm.conf and /etc/slurm/slurmdbd.conf without a backup.
#
# Environment: HMOGBENCH_SLURM_STATE (state dir: logs, pid files, spool; default /var/tmp/hmogbench-slurm),
# HMOGBENCH_SLURM_PARTITION (default debug), HMOGBENCH_SLURM_ACCOUNT (default local),
# HMOGBENCH_SLURM_TIMEOUT (seconds to wait for a usable node; default 90).
# Idempotent: when everything already runs it only checks; a dead daemon is restarted.
# Stop with .ci/slurm/stop-cluster.sh.
set -euo pipefail

STATE=${HMOGBENCH_SLURM_STATE:-/var/tmp/hmogbench-slurm}
PARTITION=${HMOGBENCH_SLURM_PARTITION:-debug}
ACCOUNT=${HMOGBENCH_SLURM_ACCOUNT:-local}
TIMEOUT=${HMOGBENCH_SLURM_TIMEOUT:-90}
CLUSTER=hmogbench
HOST=$(hostname -s)   # slurmd finds its node by this name, so NodeName must be it
CPUS=$(nproc)
MEM_MB=$(( $(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo) - 2048 ))   # leave ~2 GB to the OS
LOG=$STATE/log RUN=$STATE/run

[ "$(id -u)" = 0 ] || { echo "error: $0 must run as root" >&2; exit 1; }

# --- packages, only where missing ---------------------------------------------------------------------------
missing=()
for pkg in munge slurmctld slurmd slurm-client slurmdbd mariadb-server; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} ..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- helpers ---------------------------------------------------------------------------------------------------
DEADLINE=$((SECONDS + TIMEOUT))

fail() {  # fail DAEMON MESSAGE: show the daemons' log tails, then one line naming the daemon
  for f in "$LOG"/*.log; do [ -s "$f" ] && { echo "==> $f <=="; tail -n 15 "$f"; }; done >&2
  echo "error: $1: $2 (logs in $LOG)" >&2
  exit 1
}

wait_for() {  # wait_for DAEMON COMMAND...: retry COMMAND until it succeeds or the deadline passes
  local daemon=$1; shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $DEADLINE ] || fail "$daemon" "not ready within ${TIMEOUT} s (waiting for: $*)"
    sleep 1
  done
}

alive() {  # alive NAME PIDFILE: the process NAME runs with the pid in PIDFILE
  local pid
  pid=$(cat "$2" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ]
}

started=()  # daemons this call (re)started
ensure() {  # ensure NAME PIDFILE START-COMMAND...: start NAME unless it runs already
  local name=$1 pidfile=$2; shift 2
  alive "$name" "$pidfile" && return 0
  # a copy started some other way (e.g. by a package's init script during apt-get install): adopt it
  local pid
  if pid=$(pgrep -o -x "$name"); then echo "$pid" >"$pidfile"; return 0; fi
  echo "starting $name ..."
  "$@" || fail "$name" "failed to start"
  wait_for "$name" alive "$name" "$pidfile"
  started+=("$name")
}

# --- directories and configuration -------------------------------------------------------------------------------
install -d -m 0755 "$STATE" "$LOG" "$RUN" "$STATE/slurmctld" "$STATE/slurmd" /etc/slurm
install -d -o munge -g munge -m 0700 "$RUN/munge"
install -d -o mysql -g mysql -m 0755 "$RUN/mysql"
install -d -o munge -g munge -m 0755 /run/munge
install -d -o mysql -g root -m 0755 /run/mysqld
for f in munged:munge mariadb:mysql; do touch "$LOG/${f%:*}.log"; chown "${f#*:}" "$LOG/${f%:*}.log"; done

# the database password, made once and kept in the state dir
[ -s "$STATE/db.pass" ] || (umask 077; head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$STATE/db.pass")
DB_PASS=$(cat "$STATE/db.pass")

cat >/etc/slurm/slurm.conf <<EOF
# written by .ci/slurm/start-cluster.sh (one-node test cluster)
ClusterName=$CLUSTER
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
SchedulerType=sched/backfill
ReturnToService=2
KillWait=30
MinJobAge=300
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=60
StateSaveLocation=$STATE/slurmctld
SlurmdSpoolDir=$STATE/slurmd
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd.log
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
JobAcctGatherType=jobacct_gather/linux
JobCompType=jobcomp/none
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=$PARTITION Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF

(umask 077; cat >/etc/slurm/slurmdbd.conf <<EOF
# written by .ci/slurm/start-cluster.sh (one-node test cluster)
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
LogFile=$LOG/slurmdbd.log
PidFile=$RUN/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=$DB_PASS
StorageLoc=slurm_acct_db
EOF
)
chown root:root /etc/slurm/slurmdbd.conf && chmod 600 /etc/slurm/slurmdbd.conf  # owner = slurmdbd's SlurmUser

# --- munged ---------------------------------------------------------------------------------------------------
if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown -R munge:munge /etc/munge && chmod 0700 /etc/munge && chmod 0400 /etc/munge/munge.key
ensure munged "$RUN/munge/munged.pid" \
  runuser -u munge -- munged --pid-file="$RUN/munge/munged.pid" --log-file="$LOG/munged.log"
wait_for munged sh -c 'munge -n | unmunge'

# --- MariaDB (root logs in through the unix socket) -------------------------------------------------------------
[ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql >>"$LOG/mariadb.log" 2>&1
ensure mariadbd "$RUN/mysql/mariadbd.pid" sh -c "setsid mariadbd --user=mysql --pid-file='$RUN/mysql/mariadbd.pid' \
  --log-error='$LOG/mariadb.log' </dev/null >/dev/null 2>&1 &"
wait_for mariadbd mariadb-admin ping
mariadb -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
  CREATE USER IF NOT EXISTS 'slurm'@'localhost'; ALTER USER 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
  GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';" || fail mariadbd "cannot create the slurm database"

# --- slurmdbd, then the cluster, account and user in it ----------------------------------------------------------
ensure slurmdbd "$RUN/slurmdbd.pid" slurmdbd
wait_for slurmdbd sacctmgr -n show cluster
has() { [ -n "$(sacctmgr -n -P show "$@" 2>/dev/null)" ]; }  # has ENTITY [WHERE...]: sacctmgr lists it
has cluster "$CLUSTER" || sacctmgr -i add cluster "$CLUSTER" >/dev/null
has account "$ACCOUNT" || sacctmgr -i add account "$ACCOUNT" cluster="$CLUSTER" description=hmogbench organization=hmogbench >/dev/null
has association user=root account="$ACCOUNT" cluster="$CLUSTER" format=user ||
  sacctmgr -i add user root account="$ACCOUNT" cluster="$CLUSTER" >/dev/null
has account "$ACCOUNT" || fail slurmdbd "account $ACCOUNT missing after sacctmgr add account"

# --- slurmctld and slurmd -----------------------------------------------------------------------------------------
ensure slurmctld "$RUN/slurmctld.pid" slurmctld
wait_for slurmctld scontrol ping
ensure slurmd "$RUN/slurmd.pid" slurmd
node_usable() { sinfo -h -n "$HOST" -o %T | grep -Eqx 'idle|mixed|allocated|completing'; }
wait_for slurmd node_usable

VERSION=$(sinfo --version | awk '{print $2}')
SUMMARY="partition $PARTITION, account $ACCOUNT, node $HOST ($CPUS CPUs, $MEM_MB MB)"
if [ ${#started[@]} -eq 0 ]; then
  echo "SLURM cluster already up ($VERSION: $SUMMARY)"
  exit 0
fi

# --- a trivial job must run and show up in sacct as COMPLETED -------------------------------------------------------
job=$(timeout $((DEADLINE - SECONDS > 5 ? DEADLINE - SECONDS : 5)) \
  sbatch --parsable --wait -p "$PARTITION" -A "$ACCOUNT" -n1 -o /dev/null -J hmogbench-check --wrap true) ||
  fail slurmd "the test job${job:+ $job} did not complete"
job_completed() { sacct -X -n -j "$job" -o State | grep -qw COMPLETED; }
wait_for slurmdbd job_completed

echo "SLURM $VERSION up: $SUMMARY; stop with .ci/slurm/stop-cluster.sh"
