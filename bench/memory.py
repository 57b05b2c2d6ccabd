"""Worker peak RSS for Push Existing Data of a very large number of items (items must be streamed).

    .venv/bin/python -m bench.memory --n 100000
"""
from __future__ import annotations

import argparse
import time

from bench.common import Stack, emit, http_figures, run_seconds


def bench_memory(n: int, latency_ms: int) -> None:
    with Stack(latency_ms=latency_ms) as stack:
        started = time.perf_counter()
        stack.seed_items(n)
        seed_seconds = time.perf_counter() - started
        run, worker, counters = stack.push_existing()
        pull = stack.runs("pull")[-1]
        emit(f"memory N={n} latency={latency_ms}ms", worker_peak_rss_mb=worker.peak_rss_mb, target_rss_mb="<200",
             push_seconds=run_seconds(run), **{"items/s": n / run_seconds(run)}, created=run.created,
             batches=http_figures(counters)["batches"], first_pull_seconds=run_seconds(pull),
             worker_seconds=worker.seconds, seed_seconds=seed_seconds)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[100000])
    parser.add_argument("--latency", type=int, default=0, help="ms the emulator waits per HTTP request")
    args = parser.parse_args(argv)
    for n in args.n:
        bench_memory(n, args.latency)


if __name__ == "__main__":
    main()
