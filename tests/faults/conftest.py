"""Real processes to break: a redis-server with append-only persistence that a test kills and starts
again, `rq worker --with-scheduler` and `rq cron` processes under `scripts/supervise.sh` (as in the
Procfile), and the Google emulator. Settings are production's (lock life, sweep interval, coalescing);
only the emulator's per-user quota is lifted where a test says why.

Each test records ONE figure line, `faults=… items=… duplicates=… missing=… recovery_s=…`, printed in
the terminal summary (with or without `-s`) and collected into tests/RELIABILITY.md.
"""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from rq import Worker

from app.extensions import db
from app.models import CalendarConnection, Role, RunStatus, SyncRun
from app.queues import BULK, get_queue
from app.sync.mapping import portal_ref
from jobs.queueing import run_job_id
from tests.conftest import post_form
from tests.google_flow import sign_in_with_google
from testsupport.helpers import wait_until
from testsupport.processes import (
    ROOT,
    RedisServer,
    process_env,
    rq_cron_command,
    rq_worker_command,
    start_logged,
    stop_process,
)

CALENDAR = "alex@example.com"


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (read from /proc), children first-level before grandchildren."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


class Supervised:
    """A command under scripts/supervise.sh, as production runs it; `kill_child` SIGKILLs the command and
    everything it forked (an RQ worker, its work horse and its scheduler) and the loop starts it again."""

    def __init__(self, name: str, command: list[str], env: dict, log_dir: Path):
        self.name, self.log_path = name, log_dir / f"{name}.log"
        self.proc = start_logged([str(ROOT / "scripts" / "supervise.sh"), *command], env, self.log_path)

    def kill_child(self) -> None:
        for pid in descendants(self.proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def stop(self) -> None:
        tree = descendants(self.proc.pid)
        stop_process(self.proc, timeout=15)
        for pid in tree:  # a work horse left mid-job must not outlive the test
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture
def fault_redis(tmp_path):
    server = RedisServer(tmp_path / "redis", appendonly=True)
    server.dir.mkdir()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app_config(app_config, fault_redis):
    """The suite's app, but on the Redis this test may kill, with production's 2 s push coalescing."""
    return {**app_config, "REDIS_URL": fault_redis.url, "PUSH_COALESCE_SECONDS": 2,
            "SYNC_LOCK_SECONDS": 20, "SYNC_LOCK_WAIT_SECONDS": 30}


@pytest.fixture
def stack(app, google, tmp_path):
    """Starts `workers` supervised RQ workers and one supervised `rq cron`, configured only by environment."""
    config = app.config
    env = process_env(config)
    started: list[Supervised] = []

    def start(workers: int = 2) -> list[Supervised]:
        for n in range(workers):
            started.append(Supervised(f"worker{n}", rq_worker_command(
                config, "--with-scheduler", "--worker-ttl", "35",
                "--maintenance-interval", "15"), env, tmp_path))
        started.append(Supervised("cron", rq_cron_command(config), env, tmp_path))
        return started[:workers]

    start.logs = lambda tail=3000: "\n".join(  # what each process said (the last `tail` characters, or all)
        f"--- {p.name}\n" + p.log_path.read_text()[-tail if tail else 0:] for p in started)
    yield start
    for process in started:
        process.stop()


def busy_worker(workers: list[Supervised], run: SyncRun) -> Supervised:
    """The supervised worker whose RQ worker is executing `run`'s job right now: its first job, or one of the
    slices that continue it (not a cron job)."""

    def runs_it(job) -> bool:
        return job is not None and (job.id == run_job_id(run.id) or (
            job.func_name == "jobs.sync.continue_run" and job.args and job.args[0] == run.id))

    def find():
        for worker in Worker.all(queue=get_queue()):
            if runs_it(worker.get_current_job()):
                for supervised in workers:
                    if worker.pid in descendants(supervised.proc.pid):
                        return supervised
        return None
    return wait_until(find, timeout=60)


def connect_and_push(client_user, login_as, app, items_made) -> tuple:
    """Sign in with Google and press Push Existing Data, as the user does; returns (client, connection)."""
    client = login_as(client_user)
    sign_in_with_google(client)
    response = post_form(client, "/integrations/two-way/push", {"calendar_id": CALENDAR}, page="/integrations/")
    assert response.status_code == 302
    connection = db.session.scalar(sa.select(CalendarConnection).where(CalendarConnection.user_id == client_user.id))
    return client, connection


def unfinished_runs() -> list[SyncRun]:
    db.session.expire_all()
    return db.session.scalars(sa.select(SyncRun).where(
        SyncRun.status.in_((RunStatus.QUEUED, RunStatus.RUNNING)))).all()


def job_in_hand() -> bool:
    """A live worker is executing a job (it may be waiting for a connection's lock, with no run yet)."""
    return any(worker.get_current_job_id() and Path(f"/proc/{worker.pid}").exists()
               for worker in Worker.all(queue=get_queue()))


def settled(timeout: float, also=lambda: True) -> float:
    """Wait until no run is queued or running and nothing waits in the outbox (and `also()`); returns when."""
    from app.models import PendingPush

    def done():
        if unfinished_runs():
            return False
        if db.session.scalar(sa.select(sa.func.count()).select_from(PendingPush)):
            return False
        # Not the periodic queue: the safety net always has a poll or a renewal planned for later.
        if any(queue.count or queue.scheduled_job_registry.count for queue in (get_queue(), get_queue(BULK))) \
                or job_in_hand():
            return False
        return also()
    try:
        wait_until(done, timeout=timeout, interval=0.5)
    except AssertionError:
        queue, runs = get_queue(), [(r.id, r.kind, r.status) for r in unfinished_runs()]
        outbox = db.session.scalar(sa.select(sa.func.count()).select_from(PendingPush))
        raise AssertionError(f"not settled in {timeout} s: runs {runs}, outbox {outbox}, queued {queue.job_ids}, "
                             f"scheduled {queue.scheduled_job_registry.get_job_ids()}") from None
    return time.monotonic()


def google_copies(google, items) -> tuple[int, int]:
    """(duplicates, missing): Google events per portal item beyond one, and items with no event."""
    counts: dict[tuple[str, int], int] = {}
    for event in google.events(CALENDAR):
        ref = portal_ref(event) if event.get("status") != "cancelled" else None
        if ref:
            counts[ref[:2]] = counts.get(ref[:2], 0) + 1
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    missing = sum(1 for item in items if (item.kind, item.id) not in counts)
    return duplicates, missing


@pytest.fixture
def figure(record_property):
    """`figure(faults=..., items=..., duplicates=..., missing=..., recovery_s=...)` records the test's line."""
    def _figure(**values) -> str:
        line = " ".join(f"{key}={value}" for key, value in values.items())
        record_property("figures", line)
        return line
    return _figure


@pytest.fixture
def client_user(users):
    return users[Role.CLIENT]

