"""Scale of the planner (#27): the sweep's time and the worker's memory at 100,000 connections, SQL only.

    .venv/bin/python -m bench.planner --connections 100000 [--database-url postgresql+psycopg://…]

The portal holds `--connections` users, each with an ACTIVE 2-way connection inserted in bulk with SQL (no
Google account behind them: the sweep makes no Google call); a share `--no-channel` has no watch channel, the
others' channels end at random over the coming 7 days, as in bench/fleet.py. Then a separate process, built
like a worker (`jobs.worker.worker_app`), runs the real `jobs.periodic.sweep_connections` three ways:

- first: no connection was ever planned, so every one is read, planned and written;
- typical: the `--typical` sweeps that follow, SWEEP_SECONDS apart (their mean);
- catch-up: every connection's poll overdue at once, as after an outage.

`plan_s` is the time inside `app.sync.polling.plan` alone during the first sweep (the sweep enqueues a batch in
Redis while the next one is planned: that overlap is inside it). The jobs a sweep scheduled are removed from
Redis before the next one (not timed). `worker_peak_mb` is that process's peak RSS (`ru_maxrss`), its imports
and app included; `worker_start_mb` its RSS before the first sweep.
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from datetime import timedelta

import sqlalchemy as sa

from bench.common import Stack, emit
from testsupport.processes import ROOT

TARGET_S, TARGET_MB = 5, 300
INSERT_CHUNK = 10_000  # rows per bulk INSERT while seeding
FIGURES = "planner-figures: "  # the child's last line on stdout


# -- the fleet, in bulk ---------------------------------------------------------------------------------------

def seed_connections(stack: Stack, n: int, no_channel: float) -> float:
    """n users of the bench's company and one ACTIVE 2-way connection each, inserted INSERT_CHUNK rows a
    statement (no Google account, no per-row encryption: one ciphertext shared by all). Returns the seconds."""
    from app.crypto import encrypt
    from app.models import CalendarConnection, ConnectionKind, ConnectionStatus, Role, User, utcnow

    db, company_id = stack.db, stack.user.company_id
    began = time.perf_counter()
    for start in range(0, n, INSERT_CHUNK):
        db.session.execute(sa.insert(User), [
            {"company_id": company_id, "email": f"planner{i}@bench.test", "name": f"Planner {i}",
             "password_hash": stack.user.password_hash, "role": Role.STAFF, "timezone": "UTC"}
            for i in range(start, min(n, start + INSERT_CHUNK))])
    user_ids = db.session.scalars(sa.select(User.id).where(User.email.like("planner%@bench.test"))
                                  .order_by(User.id)).all()
    token, now = encrypt("never-used"), utcnow()
    for start in range(0, n, INSERT_CHUNK):
        rows = []
        for i in range(start, min(n, start + INSERT_CHUNK)):
            live = random.random() >= no_channel
            email = f"planner{i}@example.com"
            rows.append({"company_id": company_id, "user_id": user_ids[i], "kind": ConnectionKind.TWO_WAY,
                         "status": ConnectionStatus.ACTIVE, "google_email": email, "calendar_id": email,
                         "calendar_summary": email, "access_token_enc": token, "refresh_token_enc": token,
                         "token_expires_at": now + timedelta(hours=1),
                         "channel_id": f"planner-channel-{i}" if live else None,
                         "channel_token": "planner" if live else None,
                         "channel_expires_at": now + timedelta(days=7 * random.random()) if live else None})
        db.session.execute(sa.insert(CalendarConnection), rows)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("ANALYZE"))  # as autovacuum would soon after such an insert
        db.session.commit()
    return time.perf_counter() - began


# -- the sweeps, in a process of their own ----------------------------------------------------------------------

def _rss_mb(field: str = "VmRSS") -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def _drop_scheduled() -> None:
    """Removes the jobs the sweep scheduled (a few thousand ids at a time: the drain adds no memory)."""
    from rq.job import Job

    from app.queues import all_queues, get_redis

    redis = get_redis()
    for queue in all_queues():
        key = queue.scheduled_job_registry.key
        while ids := redis.zrange(key, 0, 4999):
            with redis.pipeline(transaction=False) as pipe:
                pipe.unlink(*(Job.key_for(job_id.decode()) for job_id in ids))
                pipe.zrem(key, *ids)
                pipe.execute()


def _timed_plan(spent: list[float]):
    """`app.sync.polling.plan`, adding the time spent inside it (each batch's SELECT, planning, UPDATE and
    commit) to spent[0]."""
    from app.sync import polling

    def plan(*args, **kwargs):
        batches = polling.plan(*args, **kwargs)
        while True:
            began = time.perf_counter()
            batch = next(batches, None)
            spent[0] += time.perf_counter() - began
            if batch is None:
                return
            yield batch

    return plan


def _sweep(now) -> tuple[float, int]:
    from jobs.periodic import sweep_connections

    began = time.perf_counter()
    enqueued = sweep_connections(now)
    seconds = time.perf_counter() - began
    _drop_scheduled()
    return seconds, enqueued


def child(typical: int, seed: int) -> None:
    """The sweeps in this process, built as a worker builds its app; prints the figures as one JSON line."""
    random.seed(seed)
    from jobs import periodic
    from jobs.worker import worker_app

    with worker_app().app_context():
        from app.extensions import db
        from app.models import CalendarConnection, utcnow

        start_mb = _rss_mb()
        spent = [0.0]
        periodic.plan = _timed_plan(spent)
        now = utcnow()
        first_s, first_jobs = _sweep(now)
        plan_s = spent[0]
        typical_runs = [_sweep(now + timedelta(seconds=periodic.SWEEP_SECONDS * (k + 1))) for k in range(typical)]
        later = now + timedelta(seconds=periodic.SWEEP_SECONDS * (typical + 1))
        db.session.execute(sa.update(CalendarConnection).values(next_poll_at=later - timedelta(hours=1)))
        db.session.commit()
        catch_up_s, catch_up_jobs = _sweep(later)
    print(FIGURES + json.dumps({
        "first_sweep_s": first_s, "plan_s": plan_s, "first_jobs": first_jobs,
        "typical_sweep_s": sum(s for s, _ in typical_runs) / typical,
        "typical_jobs": round(sum(j for _, j in typical_runs) / typical),
        "catch_up_s": catch_up_s, "catch_up_jobs": catch_up_jobs,
        "worker_start_mb": start_mb, "worker_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}),
        flush=True)


def run_child(stack: Stack, typical: int, seed: int) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.planner", "--child", "--typical", str(typical),
                          "--seed", str(seed)], cwd=ROOT, env=stack.env, capture_output=True, text=True,
                         timeout=1800)
    lines = [line for line in out.stdout.splitlines() if line.startswith(FIGURES)]
    if out.returncode or not lines:
        sys.stderr.write(out.stdout[-3000:] + out.stderr[-3000:])
        raise RuntimeError(f"the sweeping process failed ({out.returncode})")
    return json.loads(lines[-1][len(FIGURES):])


def bench_planner(args: argparse.Namespace) -> None:
    random.seed(args.seed)
    with Stack(database_url=args.database_url) as stack:
        seed_s = seed_connections(stack, args.connections, args.no_channel)
        figures = run_child(stack, args.typical, args.seed)
        sweep_s = max(figures["first_sweep_s"], figures["typical_sweep_s"], figures["catch_up_s"])
        emit(f"planner connections={args.connections}", sweep_s=sweep_s, target_s=f"<{TARGET_S}",
             **{k: figures[k] for k in ("first_sweep_s", "plan_s", "first_jobs", "typical_sweep_s", "typical_jobs",
                                         "catch_up_s", "catch_up_jobs", "worker_peak_mb")},
             target_mb=f"<{TARGET_MB}", worker_start_mb=figures["worker_start_mb"], seed_s=seed_s,
             database=stack.db.engine.dialect.name)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=100_000)
    parser.add_argument("--no-channel", type=float, default=0.05, help="share of connections without a channel")
    parser.add_argument("--typical", type=int, default=3, help="sweeps after the first, SWEEP_SECONDS apart")
    parser.add_argument("--database-url", help="a database the bench owns (emptied first); default SQLite")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)  # the sweeping process
    args = parser.parse_args(argv)
    if args.child:
        child(args.typical, args.seed)
    else:
        bench_planner(args)


if __name__ == "__main__":
    main()
