"""Steady state: a burst of portal edits for one connection → how many jobs and HTTP requests (coalescing).

Two ways: the burst lands while no worker runs (queued, then one worker run), and while a worker is
already waiting for jobs, the edits --spacing ms apart (pushes start during the burst).

    .venv/bin/python -m bench.steady --n 1000 --edits 100 --latency 20
"""
from __future__ import annotations

import argparse
import time
from functools import partial

from bench.common import Stack, emit, http_figures, outbox_loaded_by_create_app, run_seconds


def burst(stack: Stack, edits: int, timing: dict, spacing_seconds: float = 0.0) -> None:
    started = time.perf_counter()
    stack.edit_items(edits, spacing_seconds)
    timing["edit_seconds"] = time.perf_counter() - started
    timing["queued_after_burst"] = stack.queued_jobs()


def bench_steady(n: int, edits: int, latency_ms: int, spacing_ms: float) -> None:
    hooks = "yes" if outbox_loaded_by_create_app() else "NO"
    with Stack(latency_ms=0) as stack:
        stack.seed_items(n)
        stack.push_existing()
        stack.emulator.set_latency(latency_ms)
        for mode in ("worker-idle", "worker-running"):
            stack.emulator.reset_counters()
            pushes_before = len(stack.runs("push"))
            timing: dict = {}
            if mode == "worker-idle":
                burst(stack, edits, timing)
                stack.wait_for_coalesced_push()
                worker = stack.run_worker()
            else:
                worker = stack.run_worker(during=partial(burst, stack, edits, timing, spacing_ms / 1000))
            pushes = stack.runs("push")[pushes_before:]
            http = http_figures(stack.emulator.counters())
            label = f"{mode} spacing={spacing_ms:g}ms" if mode == "worker-running" else mode
            emit(f"steady edits={edits} {label} latency={latency_ms}ms", jobs_ran=worker.jobs, push_runs=len(pushes),
                 pushed=sum(r.updated + r.created for r in pushes), http_requests=http["http_requests"],
                 calls=http["calls"], push_seconds=sum(run_seconds(r) for r in pushes),
                 target_requests=f"<={-(-edits // 50)}+c", **timing, outbox_hooks_in_web_app=hooks)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="items already pushed")
    parser.add_argument("--edits", type=int, default=100)
    parser.add_argument("--latency", type=int, default=20, help="ms the emulator waits per HTTP request")
    parser.add_argument("--spacing", type=float, default=10, help="ms between edits while the worker runs")
    args = parser.parse_args(argv)
    bench_steady(args.n, args.edits, args.latency, args.spacing)


if __name__ == "__main__":
    main()
