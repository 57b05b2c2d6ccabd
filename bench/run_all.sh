#!/bin/sh
# Every bench case, one line of figures each: bench/run_all.sh [--quick]
cd "$(dirname "$0")/.." && exec .venv/bin/python -m bench "$@"
