#!/usr/bin/env bash
# Install and start the system services the project needs, only when they are missing.
# Usage: scripts/ensure-system.sh [redis] [chromium] [postgres]
set -euo pipefail

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing ${missing[*]} with apt-get (this can take a minute)..."
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
  fi
}

for what in "$@"; do
  case "$what" in
    redis)
      command -v redis-server >/dev/null || apt_install redis-server
      if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
        mkdir -p /tmp/pcs-redis
        redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no --dir /tmp/pcs-redis \
          --logfile /tmp/pcs-redis/redis.log
      fi
      ;;
    chromium)
      command -v chromium >/dev/null || apt_install chromium
      ;;
    postgres)
      command -v pg_ctlcluster >/dev/null || apt_install postgresql
      if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
        for _ in $(seq 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
      fi
      # A role and database of the tests' own, reachable with a password from 127.0.0.1.
      as_pg() { if [ "$(id -u)" -eq 0 ]; then su postgres -c "$1"; else sudo -u postgres sh -c "$1"; fi; }
      as_pg "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='pcs'\" | grep -q 1 || psql -qc \"CREATE ROLE pcs LOGIN CREATEDB PASSWORD 'pcs'\""
      as_pg "psql -qc \"ALTER ROLE pcs CREATEDB\""  # each pytest-xdist worker creates its own database
      as_pg "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='pcs_test'\" | grep -q 1 || createdb -O pcs pcs_test"
      ;;
    *) echo "unknown service: $what" >&2; exit 2 ;;
  esac
done
