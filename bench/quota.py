"""Push Existing Data under a per-user quota the emulator enforces (a sliding one-minute window, every call of a
batch counted): the rate-limit answers the engine received, and the push time against the floor the quota sets.

    .venv/bin/python -m bench.quota --n 3000 --per-user-quota 6000

`floor_ratio` = push seconds ÷ (n ÷ quota per second): at most about 1 when the engine paces to the quota instead
of bouncing off it. Below 1 is possible: a sliding window lets a fresh minute's quota go at once.
"""
from __future__ import annotations

import argparse

from bench.common import UNPACED, Stack, emit, http_figures, run_seconds


def bench_quota(n: int, per_user_quota: int, latency_ms: int) -> dict:
    # Our budget knows the same per-user quota Google (the emulator) enforces; the daily ceiling is not measured here.
    limits = {**UNPACED, "GOOGLE_QUOTA_PER_USER_PER_MINUTE": per_user_quota,
              "GOOGLE_QUOTA_PER_PROJECT_PER_MINUTE": 10_000}
    with Stack(latency_ms=latency_ms, limits=limits) as stack:
        stack.seed_items(n)
        stack.emulator.set_quota(per_user_quota)
        run, worker, counters = stack.push_existing()
        seconds = run_seconds(run)
        floor = n / (per_user_quota / 60)
        figures = {"rate_limited": counters["rate_limited"], "floor_ratio": seconds / floor, "seconds": seconds,
                   "floor_seconds": floor, "calls": http_figures(counters)["calls"], "created": run.created,
                   "failed": run.failed, "worker_seconds": worker.seconds,
                   "target": "rate_limited=0,floor_ratio<=1.15"}
        emit(f"quota N={n} per_user_quota={per_user_quota}/min latency={latency_ms}ms", **figures)
        return figures


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[3000], help="items; one line each")
    parser.add_argument("--per-user-quota", type=int, default=6000, help="calls per user per minute (scaled)")
    parser.add_argument("--latency", type=int, default=20, help="ms the emulator waits per HTTP request")
    args = parser.parse_args(argv)
    for n in args.n:
        bench_quota(n, args.per_user_quota, args.latency)


if __name__ == "__main__":
    main()
