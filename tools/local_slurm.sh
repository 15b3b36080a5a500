#!/usr/bin/env bash
# A one-node SLURM cluster on localhost, from Debian's slurm-wlm and munge, for the scheduler tests
# (tests/test_cluster.py) and for trying `cdpose tables --launcher slurm` on one machine.
#   tools/local_slurm.sh install   apt-get install slurm-wlm munge (as root)
#   tools/local_slurm.sh start     write /etc/slurm/slurm.conf, start munged, slurmctld and slurmd; wait for the node
#   tools/local_slurm.sh stop      stop the three daemons
# The node has this machine's CPUs in one partition, `debug`. No accounting database: finished jobs are kept in the
# job-completion log (/var/log/slurm/jobcomp.log), and `scontrol show job` shows a job while slurmctld remembers it.
set -euo pipefail
cmd=${1:-start}
node=$(hostname -s)
cpus=$(nproc)
case "$cmd" in
install)
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q slurm-wlm munge >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q slurm-wlm munge >/dev/null; }
  ;;
start)
  command -v slurmctld >/dev/null || { echo "slurmctld not found: run $0 install first" >&2; exit 1; }
  mkdir -p /etc/munge /var/run/munge /var/log/munge /var/lib/munge /etc/slurm /var/spool/slurmctld \
           /var/spool/slurmd /var/log/slurm
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
  chown -R munge:munge /etc/munge /var/run/munge /var/log/munge /var/lib/munge
  chmod 0700 /etc/munge; chmod 0400 /etc/munge/munge.key
  pgrep -x munged >/dev/null || su -s /bin/sh munge -c /usr/sbin/munged
  cat > /etc/slurm/slurm.conf <<EOF
ClusterName=cdpose
SlurmctldHost=$node
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=/var/log/slurm/jobcomp.log
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/var/run/slurmctld.pid
SlurmdPidFile=/var/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ReturnToService=2
MinJobAge=3600
KillWait=5
JobRequeue=1
NodeName=$node CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
  pgrep -x slurmctld >/dev/null || slurmctld
  pgrep -x slurmd >/dev/null || slurmd
  for _ in $(seq 60); do
    if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
      echo "SLURM is up: node $node, $cpus CPUs, partition debug"; exit 0
    fi
    sleep 1
  done
  echo "SLURM did not come up in 60 s; sinfo says: $(sinfo 2>&1 | tail -n 2)" >&2
  tail -n 20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
  exit 1
  ;;
stop)
  pkill -x slurmd || true; pkill -x slurmctld || true; pkill -x munged || true
  ;;
*) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
