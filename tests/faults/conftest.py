"""Real processes to break: a redis-server with append-only persistence that a test kills and starts
again, `rq worker --with-scheduler` and `rq cron` processes under `scripts/supervise.sh` (as in the
Procfile), and the Google emulator. Settings are production's (lock life, sweep interval, coalescing);
only the emulator's per-user quota is lifted where a test says why.

Each test records ONE figure line, `faults=… items=… duplicates=… missing=… recovery_s=…`, printed in
the terminal summary (with or without `-s`) and collected into tests/RELIABILITY.md.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from rq import Worker

from app.extensions import db
from app.models import CalendarConnection, Role, RunStatus, SyncRun
from app.queues import BULK, get_queue, worker_queue_names
from app.sync.mapping import portal_ref
from tests.conftest import ROOT, free_port, post_form, wait_for_port, wait_until
from tests.google_flow import sign_in_with_google

CALENDAR = "alex@example.com"


class RedisServer:
    """redis-server with appendonly on, in its own directory, restartable on the same port."""

    def __init__(self, directory: Path):
        self.dir, self.port = directory, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--appendonly", "yes", "--appendfsync", "always", "--save", "",
                                      "--dir", str(self.dir)], stdout=subprocess.DEVNULL)
        wait_for_port(self.port)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


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
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([str(ROOT / "scripts" / "supervise.sh"), *command], cwd=ROOT, env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT)

    def kill_child(self) -> None:
        for pid in descendants(self.proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def stop(self) -> None:
        tree = descendants(self.proc.pid)
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        for pid in tree:  # a work horse left mid-job must not outlive the test
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._log.close()


@pytest.fixture
def fault_redis(tmp_path):
    server = RedisServer(tmp_path / "redis")
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
    env = {**os.environ, "PORTAL_ENV": "development", "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
           "REDIS_URL": config["REDIS_URL"], "REDIS_NAMESPACE": config["REDIS_NAMESPACE"],
           "GOOGLE_API_BASE_URL": config["GOOGLE_API_BASE_URL"],
           "GOOGLE_OPENID_CONFIGURATION_URL": config["GOOGLE_OPENID_CONFIGURATION_URL"],
           "GOOGLE_CLIENT_ID": config["GOOGLE_CLIENT_ID"], "GOOGLE_CLIENT_SECRET": config["GOOGLE_CLIENT_SECRET"],
           "TOKEN_ENCRYPTION_KEY": config["TOKEN_ENCRYPTION_KEY"], "SECRET_KEY": config["SECRET_KEY"],
           "WEBHOOK_BASE_URL": config["WEBHOOK_BASE_URL"], "PORTAL_BASE_URL": config["PORTAL_BASE_URL"]}
    rq = [sys.executable, "-m", "rq.cli"]
    started: list[Supervised] = []

    def start(workers: int = 2) -> list[Supervised]:
        for n in range(workers):
            started.append(Supervised(f"worker{n}", [*rq, "worker", "--url", config["REDIS_URL"],
                                                     "--worker-class", "jobs.worker.SyncWorker", "--with-scheduler",
                                                     "--worker-ttl", "35", "--maintenance-interval", "15",
                                                     *worker_queue_names(config["REDIS_NAMESPACE"])], env, tmp_path))
        started.append(Supervised("cron", [*rq, "cron", "jobs.cron_config", "--url", config["REDIS_URL"]],
                                  env, tmp_path))
        return started[:workers]

    start.logs = lambda tail=3000: "\n".join(  # what each process said (the last `tail` characters, or all)
        f"--- {p.name}\n" + p.log_path.read_text()[-tail if tail else 0:] for p in started)
    yield start
    for process in started:
        process.stop()


def busy_worker(workers: list[Supervised]) -> Supervised:
    """The supervised worker whose RQ worker is executing a job right now."""
    def find():
        for worker in Worker.all(queue=get_queue()):
            if worker.get_current_job_id():
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


def settled(timeout: float, also=lambda: True) -> float:
    """Wait until no run is queued or running and nothing waits in the outbox (and `also()`); returns when."""
    from app.models import PendingPush

    def done():
        if unfinished_runs():
            return False
        if db.session.scalar(sa.select(sa.func.count()).select_from(PendingPush)):
            return False
        # Not the periodic queue: the safety net always has a poll or a renewal planned for later.
        if any(queue.count or queue.scheduled_job_registry.count for queue in (get_queue(), get_queue(BULK))):
            return False
        return also()
    wait_until(done, timeout=timeout, interval=0.5)
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

