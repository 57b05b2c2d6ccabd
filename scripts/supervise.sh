#!/usr/bin/env bash
# Keep one process alive: run it, and run it again whenever it exits, until this script is stopped.
# RQ's worker and cron quit when Redis goes away (and a machine's OOM killer may take a worker); under
# this loop they come back by themselves a few seconds later. SIGTERM/SIGINT are passed on to the child,
# so `honcho`, systemd or Kubernetes stop it gracefully (RQ finishes the job in hand on SIGTERM).
# Usage: scripts/supervise.sh COMMAND [ARGS...]
set -u
child=0
stop() {
  trap - TERM INT
  [ "$child" -ne 0 ] && kill -TERM "$child" 2>/dev/null && wait "$child"
  exit 0
}
trap stop TERM INT
while true; do
  "$@" &
  child=$!
  wait "$child"
  status=$?
  echo "supervise.sh: '$*' exited with status $status; starting it again in 2 s" >&2
  sleep 2 &
  wait $!
done
