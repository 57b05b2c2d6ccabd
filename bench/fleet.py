"""Fleet scale: Google requests per connection per day, the sweep's time, and latencies with a bulk push running.

    .venv/bin/python -m bench.fleet --connections 1000 --hours 24 [--scale 1 2 4]

The emulator holds `--connections` Google accounts, the portal as many users with an ACTIVE 2-way connection
(a share `--no-channel` without a watch channel: refused or failed, so they are polled often).

1. Simulated day (`--hours`, a clock the bench controls): the real sweep (`jobs.periodic.sweep_connections`)
   runs every SWEEP_SECONDS of simulated time against the real database and Redis; the jobs it schedules are
   read back from RQ's scheduled registry and costed with the Google requests one such job really makes
   (measured against the emulator: `poll_requests`, `renew_requests`), plus a token refresh whenever the
   connection's access token (1 hour) has expired. Activity rides on top: a share `--editing` of users
   each make `--edits-per-day` portal edits (a push, and the pull of its echo) and a share `--google-changes`
   see `--changes-per-day` changes made in Google (a pull). Channel renewals are assumed to succeed where a
   channel exists and to be refused where none does. → requests_per_connection_day, peak_requests_per_min.
   `sweep_s` is the slowest sweep: of the simulated day (the first plans every connection) or of a catch-up
   where every connection is overdue at once (as after an outage).
2. Real time (`--seconds`, `--workers` worker processes, gunicorn for Google's webhooks): one user's Push
   Existing Data of `--bulk-items` items runs while `--live` other users edit items (→ edit_to_google_p95_s:
   commit → the change is in Google) and change their events in Google (→ google_to_portal_p95_s: Google's
   change → notification → pull → the portal item changed).
3. With `--scale`: throughput of `--throughput-jobs` safety-net polls of distinct connections drained by
   1, 2, 4… worker processes.

Quotas: Google's, by default. The emulator enforces `--quota-per-user` / `--quota-per-project` per minute (600 and
10,000, Google's defaults; 0: off) and our request budget (`app.google.budget`) is told the same figures, as in
production; `rate_limited` counts Google's refusals, which the budget should keep at 0. Workers are
`jobs.worker.SyncSimpleWorker` (jobs run in the worker process), as in bench/common.py.
"""
from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import requests
import sqlalchemy as sa

from bench.common import CLIENT_ID, SIGN_IN_SCOPES, UNPACED, Stack, emit, percentile, stop_process, wait_until
from testsupport.processes import rq_worker_command, start_logged

TOKEN_SECONDS = 3540  # the app refreshes an access token (3,599 s at Google) a minute before it expires
WRITE_SCOPE = ["https://www.googleapis.com/auth/calendar"]


# -- the fleet ------------------------------------------------------------------------------------------------

def _emulator_accounts(stack: Stack, emails: list[str], with_tokens: int) -> list[dict]:
    """One Google account per e-mail, eight admin requests at a time, and a token grant for the first
    `with_tokens` (the connections that will call Google for real; the simulation makes no call)."""
    from app.google import REQUIRED_SCOPES

    local = threading.local()

    def account(numbered: tuple[int, str]) -> dict:
        n, email = numbered
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        base = stack.emulator.base_url + "/_emulator/"
        session.post(base + "accounts", json={"email": email, "name": email}, timeout=60).raise_for_status()
        if n >= with_tokens:
            return {"access_token": "never-used", "refresh_token": "never-used", "scope": " ".join(REQUIRED_SCOPES)}
        answer = session.post(base + "tokens/issue", json={"email": email, "client_id": CLIENT_ID, "refresh": True,
                                                           "scopes": [*REQUIRED_SCOPES, *SIGN_IN_SCOPES]}, timeout=60)
        answer.raise_for_status()
        return answer.json()

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(account, enumerate(emails)))


def seed_fleet(stack: Stack, n: int, no_channel: float, with_tokens: int) -> list[int]:
    """n users of one company, each with an ACTIVE 2-way connection to their own Google account.

    Channels (fake ids: nothing here is notified through them) end at random over the coming 7 days, as in a
    fleet running for weeks; a share `no_channel` has none.
    """
    from app.crypto import encrypt
    from app.models import CalendarConnection, ConnectionKind, ConnectionStatus, Role, User, utcnow

    db = stack.db
    emails = [f"fleet{i}@example.com" for i in range(n)]
    grants = _emulator_accounts(stack, emails, with_tokens)
    now = utcnow()
    db.session.execute(sa.insert(User), [
        {"company_id": stack.user.company_id, "email": f"fleet{i}@bench.test", "name": f"Fleet {i}",
         "password_hash": stack.user.password_hash, "role": Role.STAFF, "timezone": "UTC"} for i in range(n)])
    user_ids = db.session.scalars(sa.select(User.id).where(User.email.like("fleet%@bench.test"))
                                  .order_by(User.id)).all()
    rows = []
    for i, (user_id, email, grant) in enumerate(zip(user_ids, emails, grants, strict=True)):
        live = random.random() >= no_channel
        rows.append({"company_id": stack.user.company_id, "user_id": user_id, "kind": ConnectionKind.TWO_WAY,
                     "status": ConnectionStatus.ACTIVE, "google_email": email, "calendar_id": email,
                     "calendar_summary": email, "granted_scopes": grant.get("scope", ""),
                     "access_token_enc": encrypt(grant["access_token"]),
                     "refresh_token_enc": encrypt(grant["refresh_token"]),
                     "token_expires_at": now + timedelta(seconds=TOKEN_SECONDS),
                     "channel_id": f"fleet-channel-{i}" if live else None,
                     "channel_token": "fleet" if live else None,
                     "channel_expires_at": now + timedelta(days=7 * random.random()) if live else None})
    db.session.execute(sa.insert(CalendarConnection), rows)
    db.session.commit()
    return db.session.scalars(sa.select(CalendarConnection.id).where(CalendarConnection.google_email.like(
        "fleet%")).order_by(CalendarConnection.id)).all()


# -- 1. the simulated day ---------------------------------------------------------------------------------------

def _drain_scheduled(stack: Stack) -> list[tuple[str, int, datetime]]:
    """The jobs the sweep scheduled on the periodic queue: (function, connection id, when); then removed."""
    from rq.job import Job

    from app.queues import PERIODIC, get_queue, get_redis

    redis = get_redis()
    registry = get_queue(PERIODIC).scheduled_job_registry
    scored = redis.zrange(registry.key, 0, -1, withscores=True)
    ids = [job_id.decode() for job_id, _ in scored]
    jobs = Job.fetch_many(ids, connection=redis)
    out = [(job.func_name.rsplit(".", 1)[-1], job.args[0], datetime.fromtimestamp(score, UTC).replace(tzinfo=None))
           for job, (_, score) in zip(jobs, scored, strict=True) if job is not None]
    with redis.pipeline() as pipe:
        for job_id in ids:
            pipe.unlink(Job.key_for(job_id))
        pipe.unlink(registry.key)
        pipe.execute()
    return out


def _renewed(stack: Stack, due: list[tuple[int, datetime]]) -> set[int]:
    """What a renewal job does where Google accepts (a connection with a channel): a fresh 7-day channel, its
    renewal planned from its end. Returns those connections; the others' watch is refused again."""
    from app.models import CalendarConnection
    from app.sync.polling import renewal_time

    if not due:
        return set()
    with_channel = set(stack.db.session.scalars(sa.select(CalendarConnection.id).where(
        CalendarConnection.id.in_([c for c, _ in due]), CalendarConnection.channel_id.is_not(None))))
    updates = [{"id": c, "channel_expires_at": at + timedelta(days=7),
                "next_watch_at": renewal_time(at + timedelta(days=7))} for c, at in due if c in with_channel]
    if updates:
        stack.db.session.execute(sa.update(CalendarConnection), updates)
        stack.db.session.commit()
    return with_channel


def simulate(stack: Stack, ids: list[int], args: argparse.Namespace, cost: dict) -> dict:
    from app.models import CalendarConnection, utcnow
    from jobs.periodic import SWEEP_SECONDS, sweep_connections

    start = utcnow()
    end = start + timedelta(hours=args.hours)
    calls: list[tuple[datetime, int, int]] = []  # (when, connection, Calendar API calls)
    sweep_seconds = []
    now = start
    while now < end:
        began = time.perf_counter()
        sweep_connections(now)
        sweep_seconds.append(time.perf_counter() - began)
        renewals = []
        for func, connection_id, at in _drain_scheduled(stack):
            if func == "poll_connection":
                calls.append((at, connection_id, cost["poll"]))
            else:
                renewals.append((connection_id, at))
        accepted = _renewed(stack, renewals)
        for connection_id, at in renewals:  # a refused watch is one call; a renewal also stops the old channel
            calls.append((at, connection_id, cost["renew"] if connection_id in accepted else 1))
        now += timedelta(seconds=SWEEP_SECONDS)
    healthy = set(stack.db.session.scalars(sa.select(CalendarConnection.id).where(
        CalendarConnection.channel_id.is_not(None))))
    idle = _with_token_refreshes(calls, start)
    activity = _activity(ids, args, start)
    every = _with_token_refreshes(calls + activity, start)
    days = args.hours / 24
    per_minute = Counter(int((when - start).total_seconds() // 60) for when, _, n in every for _ in range(n))
    idle_healthy = sum(n for _, c, n in idle if c in healthy)
    return {"requests_per_connection_day": sum(n for *_, n in every) / len(ids) / days,
            "peak_requests_per_min": max(per_minute.values(), default=0),
            "idle_requests_per_connection_day": sum(n for *_, n in idle) / len(ids) / days,
            "idle_healthy_requests_per_connection_day": idle_healthy / max(1, len(healthy)) / days,
            "connections_without_channel": len(ids) - len(healthy),
            "sweep_typical_s": statistics.mean(sweep_seconds), "sweep_max_simulated_s": max(sweep_seconds)}


def _activity(ids: list[int], args: argparse.Namespace, start: datetime) -> list[tuple[datetime, int, int]]:
    """Portal edits (a push, then the pull of its echo) and changes made in Google (a pull), at random times."""
    span = args.hours * 3600
    out = []
    kinds = ((args.editing, args.edits_per_day, 2), (args.google_changes, args.changes_per_day, 1))
    for share, per_day, calls in kinds:
        for connection_id in random.sample(ids, int(len(ids) * share)):
            for _ in range(round(per_day * args.hours / 24)):
                out.append((start + timedelta(seconds=random.uniform(0, span)), connection_id, calls))
    return out


def _with_token_refreshes(calls: list[tuple[datetime, int, int]], start: datetime) -> list[tuple[datetime, int, int]]:
    """Each connection's calls in time order, with a token request before any call made after its token expired."""
    valid_until: dict[int, datetime] = {}
    out = []
    for when, connection_id, n in sorted(calls):
        if when >= valid_until.get(connection_id, start + timedelta(seconds=TOKEN_SECONDS)):
            valid_until[connection_id] = when + timedelta(seconds=TOKEN_SECONDS)
            n += 1
        out.append((when, connection_id, n))
    return out


def catch_up_sweep(stack: Stack) -> tuple[float, int]:
    """Every connection overdue at once (as after hours without a sweep): the sweep's time and jobs enqueued."""
    from app.models import CalendarConnection, utcnow
    from jobs.periodic import sweep_connections

    stack.db.session.execute(sa.update(CalendarConnection).values(next_poll_at=utcnow() - timedelta(hours=1)))
    stack.db.session.commit()
    began = time.perf_counter()
    enqueued = sweep_connections()
    seconds = time.perf_counter() - began
    _drain_scheduled(stack)
    return seconds, enqueued


def measure_job_costs(stack: Stack, connection_id: int) -> dict:
    """Calendar API requests one poll and one channel renewal really make against the emulator."""
    from jobs.periodic import poll_connection, renew_channel

    cost = {}
    _expire_channel(stack, connection_id)
    renew_channel(connection_id)  # a real channel first (the fleet's are fake), so the renewal stops it
    for name, job in (("poll", poll_connection), ("renew", renew_channel)):
        _expire_channel(stack, connection_id)
        stack.emulator.reset_counters()
        job(connection_id)
        endpoints = stack.emulator.counters()["endpoints"]
        cost[name] = sum(n for endpoint, n in endpoints.items() if endpoint != "POST /token")  # refreshes: modelled
    return cost


def _expire_channel(stack: Stack, connection_id: int) -> None:
    from app.models import CalendarConnection, utcnow

    stack.db.session.execute(sa.update(CalendarConnection).where(CalendarConnection.id == connection_id).values(
        channel_expires_at=utcnow() + timedelta(hours=1)))
    stack.db.session.commit()


# -- 2. real time -----------------------------------------------------------------------------------------------

def start_workers(stack: Stack, n: int, burst: bool = False) -> list[subprocess.Popen]:
    procs = [start_logged(rq_worker_command(stack.settings, *(["--burst"] if burst else []), "--with-scheduler",
                                            worker_class="jobs.worker.SyncSimpleWorker"),
                          stack.env, stack.tmp / f"worker{i}.log") for i in range(n)]
    stack.procs.extend(procs)
    return procs


def stop_workers(stack: Stack, procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        stop_process(proc)
        stack.procs.remove(proc)


def _items_for(stack: Stack, user_ids: list[int], per_user: int) -> dict[int, list[int]]:
    """Tasks assigned to each user (bulk insert); returns user id → task ids."""
    from app.models import Task, utcnow
    from app.models.items import task_assignees

    first = (stack.db.session.scalar(sa.select(sa.func.max(Task.id))) or 0) + 1
    due = utcnow().date() + timedelta(days=2)
    owned, tasks, links = {}, [], []
    for n, user_id in enumerate(user_ids):
        owned[user_id] = list(range(first + n * per_user, first + (n + 1) * per_user))
        for task_id in owned[user_id]:
            tasks.append({"id": task_id, "company_id": stack.user.company_id, "title": f"Live task {task_id}",
                          "notes": "", "due_date": due, "done": False, "created_at": utcnow(), "updated_at": utcnow()})
            links.append({"task_id": task_id, "user_id": user_id})
    stack.db.session.execute(sa.insert(Task), tasks)
    stack.db.session.execute(sa.insert(task_assignees), links)
    stack.db.session.commit()
    return owned


def _push_existing(stack: Stack, connection_ids: list[int]) -> list[int]:
    from app.models import CalendarConnection, RunKind
    from app.sync.runs import new_run

    return _enqueued(stack, [new_run(stack.db.session.get(CalendarConnection, c), RunKind.PUSH_EXISTING)
                             for c in connection_ids])


def _enqueued(stack: Stack, runs: list) -> list[int]:
    from jobs.sync import submit

    for run in runs:
        submit(run)
    return [run.id for run in runs]


def _move_everything(stack: Stack) -> list[int]:
    """The bulk user's calendar move: a link for each of their items (as after their Push Existing Data; the
    events themselves are not seeded, Google answers each delete 404, which counts as removed and costs the
    same request), then a move of them all to a new calendar of theirs."""
    from app.google import client_for
    from app.models import ITEM_MODELS, CalendarConnection, EventLink, RunKind, utcnow
    from app.sync.runs import new_run

    connection = stack.db.session.get(CalendarConnection, stack.connection_id)
    links = [{"company_id": connection.company_id, "connection_id": connection.id, "item_type": kind,
              "item_id": item_id, "google_event_id": f"seeded{kind}{item_id}", "synced_at": utcnow()}
             for kind, model in ITEM_MODELS.items()
             for item_id in stack.db.session.scalars(model.of_participant(connection.user).with_only_columns(model.id))]
    stack.db.session.execute(sa.insert(EventLink), links)
    target = client_for(connection).create_calendar("Moved by the bench", "UTC")  # as the page does: budgeted
    run = new_run(connection, RunKind.CHANGE_CALENDAR)
    run.calendar_id, run.calendar_summary = target["id"], target["summary"]
    return _enqueued(stack, [run])


def _runs_finished(stack: Stack, run_ids: list[int]) -> bool:
    from app.models import SyncRun

    stack.db.session.expire_all()
    return all(stack.db.session.get(SyncRun, r).finished for r in run_ids)


def realtime(stack: Stack, ids: list[int], args: argparse.Namespace) -> dict:
    """Edits and Google-side changes of `--live` users while one user's Push Existing Data runs."""
    from app.models import CalendarConnection, EventLink, SyncHistory, Task, utcnow

    db = stack.db
    live = ids[1:args.live + 1]  # the first fleet connection measured the job costs
    connections = [db.session.get(CalendarConnection, c) for c in live]
    for connection in connections:  # a real channel (to our gunicorn), as after Push Existing Data
        connection.forget_channel()
    db.session.commit()
    owned = _items_for(stack, [c.user_id for c in connections], args.items_per_live_user)
    stack.seed_items(args.bulk_items)
    workers = start_workers(stack, args.workers)
    try:
        setup = _push_existing(stack, live)
        wait_until(lambda: _runs_finished(stack, setup), timeout=600, what="the live users' first push")
        by_user = {c.user_id: c for c in connections}
        google = {c.user_id: _google_api(stack, c.google_email).events() for c in connections}
        stack.emulator.reset_counters()
        bulk = _move_everything(stack) if args.bulk == "move" else _push_existing(stack, [stack.connection_id])
        edits: dict[int, datetime] = {}
        changes: dict[int, datetime] = {}
        unused = {user_id: list(tasks) for user_id, tasks in owned.items()}
        began = time.monotonic()
        next_change = began
        while time.monotonic() - began < args.seconds:
            user_id = random.choice([u for u, tasks in unused.items() if tasks])
            task = db.session.get(Task, unused[user_id].pop())
            if time.monotonic() >= next_change and unused[user_id]:
                link = db.session.scalar(sa.select(EventLink).where(
                    EventLink.connection_id == by_user[user_id].id, EventLink.item_id == task.id))
                changes[task.id] = utcnow()
                google[user_id].patch(calendarId=by_user[user_id].calendar_id, eventId=link.google_event_id,
                                      body={"summary": f"Changed in Google {task.id}"}).execute()
                next_change += args.change_every
            else:
                task.title = f"Edited in the portal {task.id}"
                db.session.commit()
                edits[task.id] = task.updated_at
            time.sleep(args.edit_every)
        bulk_progress = _bulk_progress(stack, bulk[0])

        def settled() -> bool:
            db.session.expire_all()
            synced = dict(db.session.execute(sa.select(EventLink.item_id, EventLink.synced_at).where(
                EventLink.item_id.in_(edits), EventLink.item_type == "task")).all())
            pulled = dict(db.session.execute(sa.select(SyncHistory.item_id, sa.func.min(SyncHistory.created_at)).where(
                SyncHistory.item_id.in_(changes), SyncHistory.action == "changed_in_google")
                .group_by(SyncHistory.item_id)).all())
            settled.latency = ([(synced[t] - at).total_seconds() for t, at in edits.items() if synced.get(t, at) > at],
                               [(pulled[t] - at).total_seconds() for t, at in changes.items() if t in pulled])
            return len(settled.latency[0]) == len(edits) and len(settled.latency[1]) == len(changes)

        try:
            wait_until(settled, timeout=120, what="every edit in Google and every Google change in the portal")
        except AssertionError:
            pass  # reported: the figures say how many arrived
        edit_latency, google_latency = settled.latency
    finally:
        stop_workers(stack, workers)
    counters = stack.emulator.counters()
    return {"edit_to_google_p95_s": percentile(edit_latency, 0.95),
            "google_to_portal_p95_s": percentile(google_latency, 0.95),
            "edits": f"{len(edit_latency)}/{len(edits)}", "google_changes": f"{len(google_latency)}/{len(changes)}",
            "bulk_items_pushed_meanwhile": bulk_progress, "rate_limited": counters.get("rate_limited", 0)}


def _bulk_progress(stack: Stack, run_id: int) -> str:
    from app.models import SyncRun

    stack.db.session.expire_all()
    run = stack.db.session.get(SyncRun, run_id)
    return f"{run.done}/{run.total}"


def _google_api(stack: Stack, email: str):
    """The Calendar API as the Google user themself (edits made 'in Google')."""
    from google.oauth2.credentials import Credentials
    from googleapiclient.discovery import build

    token = stack.emulator.issue_token(email, CLIENT_ID, WRITE_SCOPE)
    return build("calendar", "v3", credentials=Credentials(token), static_discovery=True,
                 client_options={"api_endpoint": stack.emulator.api_endpoint})


# -- 3. throughput ----------------------------------------------------------------------------------------------

def throughput(stack: Stack, ids: list[int], workers: int, jobs: int, live: int) -> dict:
    """`jobs` safety-net polls of distinct connections, drained by `workers` worker processes already waiting
    (their start-up is not timed). What the real-time phase left queued (the rest of the bulk push) is dropped."""
    from rq import Worker

    from app.queues import PERIODIC, all_queues, get_queue, get_redis
    from jobs.periodic import poll_connection
    from jobs.queueing import JOB_OPTIONS

    for waiting in all_queues():
        waiting.empty()
        for job_id in waiting.scheduled_job_registry.get_job_ids():
            waiting.scheduled_job_registry.remove(job_id, delete_job=True)
    queue = get_queue(PERIODIC)
    procs = start_workers(stack, workers)
    try:
        wait_until(lambda: len(Worker.all(connection=get_redis())) >= workers, timeout=120, what="the workers")
        sample = ids[1 + live:1 + live + jobs]  # connections with real tokens, not used by the real-time phase
        done_before = queue.finished_job_registry.count + queue.failed_job_registry.count
        stack.emulator.reset_counters()
        began = time.monotonic()
        with get_redis().pipeline() as pipe:
            for connection_id in sample:
                queue.enqueue(poll_connection, connection_id, pipeline=pipe, **JOB_OPTIONS)
            pipe.execute()
        wait_until(lambda: queue.finished_job_registry.count + queue.failed_job_registry.count - done_before
                   >= len(sample), timeout=3600, what="the polls")
        seconds = time.monotonic() - began
    finally:
        stop_workers(stack, procs)
    counters = stack.emulator.counters()
    token = counters["endpoints"].get("POST /token", 0)
    return {"jobs": len(sample), "seconds": seconds, "jobs_per_s": len(sample) / seconds,
            "google_requests_per_s": (counters["total"] + token) / seconds,
            "rate_limited": counters.get("rate_limited", 0)}


def bench_fleet(args: argparse.Namespace) -> None:
    random.seed(args.seed)
    # Our budget paces to the quotas Google (the emulator) enforces; lifted where the emulator's are off.
    # `--unpaced` is the control: our budget lifted, Google's quotas still enforced.
    limits = {**UNPACED, "PUSH_DAILY_CEILING": 20_000}
    if args.quota_per_user and not args.unpaced:
        limits["GOOGLE_QUOTA_PER_USER_PER_MINUTE"] = args.quota_per_user
    if args.quota_per_project and not args.unpaced:
        limits["GOOGLE_QUOTA_PER_PROJECT_PER_MINUTE"] = args.quota_per_project
    with Stack(latency_ms=0, limits=limits, database_url=args.database_url, webhooks=True) as stack:
        stack.emulator.set_quota(args.quota_per_user, args.quota_per_project)
        began = time.monotonic()
        ids = seed_fleet(stack, args.connections, args.no_channel, 1 + args.live + args.throughput_jobs)
        seed_seconds = time.monotonic() - began
        stack.emulator.set_latency(args.latency)
        stack.start_web()
        cost = measure_job_costs(stack, ids[0])
        figures = simulate(stack, ids, args, cost)
        catch_up_s, caught_up = catch_up_sweep(stack)
        live = realtime(stack, ids, args)
        emit(f"fleet connections={args.connections} hours={args.hours:g}" + (" UNPACED" if args.unpaced else ""),
             requests_per_connection_day=figures.pop("requests_per_connection_day"),
             peak_requests_per_min=figures.pop("peak_requests_per_min"),
             edit_to_google_p95_s=live.pop("edit_to_google_p95_s"),
             google_to_portal_p95_s=live.pop("google_to_portal_p95_s"),
             sweep_s=max(figures["sweep_max_simulated_s"], catch_up_s), workers=args.workers, **figures,
             catch_up_sweep_s=catch_up_s, catch_up_jobs=caught_up, **live,
             poll_requests=cost["poll"], renew_requests=cost["renew"], latency_ms=args.latency,
             seed_seconds=seed_seconds, database=stack.db.engine.dialect.name)
        for workers in args.scale:
            emit(f"fleet throughput connections={args.connections} workers={workers}",
                 **throughput(stack, ids, workers, args.throughput_jobs, args.live))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--hours", type=float, default=24, help="simulated hours of sweeps")
    parser.add_argument("--no-channel", type=float, default=0.05, help="share of connections without a channel")
    parser.add_argument("--editing", type=float, default=0.2, help="share of users editing in the portal")
    parser.add_argument("--edits-per-day", type=float, default=10)
    parser.add_argument("--google-changes", type=float, default=0.2, help="share of users changing events in Google")
    parser.add_argument("--changes-per-day", type=float, default=5)
    parser.add_argument("--workers", type=int, default=2, help="worker processes in the real-time phase")
    parser.add_argument("--seconds", type=float, default=40, help="length of the real-time phase")
    parser.add_argument("--live", type=int, default=10, help="users editing during the real-time phase")
    parser.add_argument("--items-per-live-user", type=int, default=40)
    parser.add_argument("--edit-every", type=float, default=0.25, help="seconds between two edits")
    parser.add_argument("--change-every", type=float, default=2, help="seconds between two changes in Google")
    parser.add_argument("--bulk-items", type=int, default=20000, help="the bulk run's items")
    parser.add_argument("--bulk", choices=["push", "move"], default="push",
                        help="the bulk run meanwhile: a Push Existing Data, or a calendar move (removal, then push)")
    parser.add_argument("--latency", type=int, default=20, help="ms the emulator waits per HTTP request")
    parser.add_argument("--scale", type=int, nargs="*", default=[], help="worker counts for the throughput table")
    parser.add_argument("--throughput-jobs", type=int, default=1000)
    parser.add_argument("--quota-per-user", type=int, default=600, help="Google's per-user quota per minute (0: off)")
    parser.add_argument("--quota-per-project", type=int, default=10000,
                        help="Google's per-project quota per minute (0: off)")
    parser.add_argument("--unpaced", action="store_true",
                        help="control: lift our request budget (Google's quotas stay) to see the refusals it prevents")
    parser.add_argument("--database-url", help="a database the bench owns (emptied first); default SQLite")
    parser.add_argument("--seed", type=int, default=1)
    bench_fleet(parser.parse_args(argv))


if __name__ == "__main__":
    main()
