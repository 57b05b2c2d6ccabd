"""Shared bench plumbing: a private Redis, Google emulator and SQLite database, one seeded user with an
ACTIVE 2-way connection, and a separate `rq worker` process whose peak RSS is read from /proc.

    with Stack(latency_ms=20) as stack:
        stack.seed_items(1000)
        run_id = stack.enqueue_push_existing()
        result = stack.run_worker()          # WorkerResult(seconds, peak_rss_mb, jobs)
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from testsupport.factories import insert_items, make_company, make_connection
from testsupport.helpers import free_port, wait_for_port, wait_until
from testsupport.processes import ROOT, RedisServer, process_env, rq_worker_command, start_logged, stop_process

GOOGLE_EMAIL = "bench@example.com"
CLIENT_ID, CLIENT_SECRET = "bench-client", "bench-secret"
SIGN_IN_SCOPES = ("openid", "email", "profile")
WRITE_METHODS = ("insert", "patch", "update", "delete", "import", "move", "quickAdd")
# The throughput cases run against an emulator without quotas: our request budget and daily ceiling are lifted
# for them (bench.quota measures pacing under a quota instead).
UNPACED = {"GOOGLE_QUOTA_PER_USER_PER_MINUTE": 10_000_000, "GOOGLE_QUOTA_PER_PROJECT_PER_MINUTE": 10_000_000,
           "PUSH_DAILY_CEILING": 10_000_000}


def percentile(values: list[float], p: float) -> float:
    """The value below which a share `p` of `values` lies (nearest rank); NaN when there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM (the process's resident-set high-water mark) in MB, or None once it has exited."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def emit(case: str, **figures) -> None:
    """The one line of figures a case prints."""
    parts = [f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()]
    print(case + ": " + " ".join(parts), flush=True)


def http_figures(counters: dict) -> dict:
    """Outer HTTP requests (a batch POST counts once) and Calendar API calls (each call of a batch counts).

    The emulator counts every call, inside a batch or not, by method; our sync engine sends writes only in
    batches, so when there were batches the write calls were their inner calls.
    """
    methods = counters["methods"]
    calls = sum(methods.values())
    batches = counters["batch_requests"]
    inner = sum(n for m, n in methods.items() if m.rsplit(".", 1)[-1] in WRITE_METHODS) if batches else 0
    return {"http_requests": batches + calls - inner, "calls": calls, "batches": batches}


def writes(counters: dict) -> int:
    return sum(n for m, n in counters["methods"].items() if m.rsplit(".", 1)[-1] in WRITE_METHODS)


class RssSampler:
    """Polls a process's VmHWM from a thread until it exits; `stop()` returns the last (highest) value."""

    def __init__(self, proc: subprocess.Popen, interval: float = 0.05):
        self.proc, self.interval, self.peak = proc, interval, 0.0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while self.proc.poll() is None:
            self.peak = max(self.peak, peak_rss_mb(self.proc.pid) or 0.0)
            time.sleep(self.interval)

    def stop(self) -> float:
        self.thread.join()
        return self.peak


@dataclass
class WorkerResult:
    seconds: float
    peak_rss_mb: float
    jobs: int
    failed: int


class Stack:
    """Everything one bench case needs, started on free 127.0.0.1 ports and removed on exit."""

    idle_exit_seconds = 2

    def __init__(self, latency_ms: int = 0, limits: dict | None = None, database_url: str | None = None,
                 webhooks: bool = False):
        """`limits`: config overrides for our own pacing (default: lifted, see UNPACED). `webhooks`: Google's
        notifications reach `start_web()`'s gunicorn; otherwise they go to a closed port."""
        self.latency_ms, self.limits = latency_ms, limits or UNPACED
        self.database_url, self.webhooks = database_url, webhooks
        self.tmp = Path(tempfile.mkdtemp(prefix="pcs-bench-"))
        self.procs: list[subprocess.Popen] = []
        self.emulator = None
        self._ctx = None

    # -- lifecycle --------------------------------------------------------------------------------

    def __enter__(self) -> Stack:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _start(self) -> None:
        from google_emulator.testing import EmulatorServer

        redis = RedisServer(self.tmp).start()
        self.procs.append(redis.proc)
        # Webhooks go to a closed http://127.0.0.1 port, which Google would refuse (HTTPS only). Google's quotas
        # are lifted (0: off): the speed cases measure the engine's own throughput, and a case that measures
        # pacing sets its quota through the admin controls.
        self.emulator = EmulatorServer.start(db_path=str(self.tmp / "emulator.sqlite3"), allow_http_webhooks=True,
                                             quota_per_user=0, quota_per_project=0)
        closed = f"http://127.0.0.1:{free_port()}"  # nothing listens: webhooks and redirects go nowhere
        self.web_port = free_port()
        self.settings = {
            "SQLALCHEMY_DATABASE_URI": self.database_url or f"sqlite:///{self.tmp / 'portal.sqlite3'}",
            "REDIS_URL": redis.url, "REDIS_NAMESPACE": f"b{uuid.uuid4().hex[:6]}",
            "GOOGLE_API_BASE_URL": self.emulator.base_url,
            "GOOGLE_OPENID_CONFIGURATION_URL": f"{self.emulator.base_url}/.well-known/openid-configuration",
            "GOOGLE_CLIENT_ID": CLIENT_ID, "GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
            "WEBHOOK_BASE_URL": f"http://127.0.0.1:{self.web_port}" if self.webhooks else closed,
            "PORTAL_BASE_URL": closed, **self.limits,
        }
        self.env = process_env(self.settings, self.limits)
        self.emulator.add_account(GOOGLE_EMAIL, "Bench User")
        self.emulator.register_client(CLIENT_ID, CLIENT_SECRET, [closed + "/broker/google/callback"])
        from app import create_app
        from config import DevelopmentConfig

        self.app = create_app(DevelopmentConfig, **self.settings)
        import app.sync.outbox  # noqa: F401  the outbox's session hooks (create_app alone does not load them)
        self._ctx = self.app.app_context()
        self._ctx.push()
        from app.extensions import db

        if self.database_url:  # a database the bench owns (e.g. PostgreSQL): emptied first
            db.drop_all()
        db.create_all()
        self._seed_people()
        self.connection_id = self.connect(GOOGLE_EMAIL).id
        if self.latency_ms:
            self.emulator.set_latency(self.latency_ms)

    def close(self) -> None:
        if self._ctx is not None:
            from app.extensions import db

            db.session.remove()
            db.engine.dispose()
            self._ctx.pop()
            self._ctx = None
        if self.emulator is not None:
            self.emulator.stop()
        for proc in reversed(self.procs):
            stop_process(proc)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start_web(self, workers: int = 2) -> None:
        """gunicorn serving the app where WEBHOOK_BASE_URL points (Google's notifications arrive here)."""
        self.procs.append(start_logged([sys.executable, "-m", "gunicorn", "-w", str(workers), "-b",
                                        f"127.0.0.1:{self.web_port}", "--timeout", "60", "wsgi:app"],
                                       self.env, self.tmp / "gunicorn.log"))
        wait_for_port(self.web_port, timeout=60)

    # -- data -------------------------------------------------------------------------------------

    @property
    def db(self):
        from app.extensions import db

        return db

    def _seed_people(self) -> None:
        from app.models import Role

        _, users = make_company("Bench Co", slug="bench")
        self.user, self.contact = users[Role.STAFF], users[Role.CLIENT]

    def connect(self, google_email: str, save: bool = True):
        """An ACTIVE 2-way connection to `google_email`'s primary calendar, with tokens the emulator issued."""
        from app.crypto import encrypt
        from app.google import REQUIRED_SCOPES
        from app.models import utcnow

        if google_email != GOOGLE_EMAIL:
            self.emulator.add_account(google_email, google_email)
        token = self.emulator.issue_tokens(google_email, CLIENT_ID, [*REQUIRED_SCOPES, *SIGN_IN_SCOPES])
        return make_connection(
            self.user, save=save, google_email=google_email, calendar_summary=google_email,
            access_token_enc=encrypt(token["access_token"]), refresh_token_enc=encrypt(token["refresh_token"]),
            granted_scopes=token.get("scope", ""),
            token_expires_at=utcnow() + timedelta(seconds=int(token.get("expires_in", 3599)) - 60))

    def seed_items(self, n: int) -> None:
        """n items the user takes part in (tasks, events, appointments in turn), inserted in bulk."""
        insert_items(self.user, self.contact, n)

    def connection(self):
        from app.models import CalendarConnection

        self.db.session.expire_all()
        return self.db.session.get(CalendarConnection, self.connection_id)

    def runs(self, kind: str | None = None) -> list:
        from app.models import SyncRun

        self.db.session.expire_all()
        query = sa.select(SyncRun).order_by(SyncRun.id)
        return self.db.session.scalars(query.where(SyncRun.kind == kind) if kind else query).all()

    def count(self, model) -> int:
        return self.db.session.scalar(sa.select(sa.func.count()).select_from(model))

    def edit_items(self, k: int, spacing_seconds: float = 0.0) -> None:
        """k portal edits, each committed on its own like a person saving a form (the outbox queues the push)."""
        from app.models import ITEM_MODELS

        models = list(ITEM_MODELS.values())
        for i in range(k):
            model = models[i % len(models)]
            item = self.db.session.scalars(sa.select(model).order_by(model.id).offset(i // len(models)).limit(1)).one()
            item.title = f"{item.title} (edited)"
            self.db.session.commit()
            time.sleep(spacing_seconds)

    def wait_for_coalesced_push(self) -> None:
        """Pushes start PUSH_COALESCE_SECONDS after the first edit (a burst is one job): wait until it is due."""
        time.sleep(self.app.config["PUSH_COALESCE_SECONDS"] + 0.5)

    # -- jobs -------------------------------------------------------------------------------------

    def enqueue_push_existing(self) -> int:
        """What the Push Existing Data button does once a calendar is chosen: a queued run, then its job."""
        from app.models import RunKind
        from app.sync.runs import new_run
        from jobs.sync import submit

        run = new_run(self.connection(), RunKind.PUSH_EXISTING)
        submit(run)
        return run.id

    def queued_jobs(self) -> int:
        from app.queues import all_queues

        return sum(queue.count for queue in all_queues())

    def _finished_jobs(self) -> tuple[int, int]:
        from app.queues import all_queues

        queues = all_queues()
        return (sum(queue.finished_job_registry.count for queue in queues),
                sum(queue.failed_job_registry.count for queue in queues))

    def run_worker(self, during=None, timeout: float = 1800) -> WorkerResult:
        """A separate `rq worker` (SimpleWorker: jobs run in its own process) until the queues are empty.

        With `during`, the worker waits for jobs (quitting after `idle_exit_seconds` idle) while `during()` runs
        here. It runs with the scheduler, as in the Procfile.
        """
        from rq import Worker

        before = self._finished_jobs()
        log_path = self.tmp / "worker.log"
        # Idle long enough for a coalesced push (due PUSH_COALESCE_SECONDS after the first edit) to start.
        idle = self.idle_exit_seconds + int(self.app.config["PUSH_COALESCE_SECONDS"]) + 1
        mode = ["--max-idle-time", str(idle)] if during else ["--burst"]
        started = time.monotonic()
        proc = start_logged(rq_worker_command(self.settings, *mode, "--with-scheduler",
                                              worker_class="jobs.worker.SyncSimpleWorker"), self.env, log_path)
        self.procs.append(proc)
        sampler = RssSampler(proc)
        if during:
            from app.queues import get_redis

            wait_until(lambda: Worker.all(connection=get_redis()) or proc.poll() is not None, what="the worker")
            during()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired as exc:
            stop_process(proc)
            raise RuntimeError(f"worker still running after {timeout} s; see {log_path}") from exc
        seconds = time.monotonic() - started
        self.procs.remove(proc)
        after = self._finished_jobs()
        failed = after[1] - before[1]
        if proc.returncode or failed:
            sys.stderr.write(log_path.read_text()[-3000:])
        return WorkerResult(seconds, sampler.stop(), after[0] - before[0] + failed, failed)

    def push_existing(self) -> tuple:
        """Run Push Existing Data in the worker until its run ends; returns (its run, the worker result, the
        emulator counters). A push larger than one quota window schedules its next slice for when the budget has
        room: the burst worker then ends, and another starts when that slice is due (as a long-running worker's
        scheduler would move it to the queue)."""
        self.emulator.reset_counters()
        run_id = self.enqueue_push_existing()
        result = self.run_worker()
        while (run := next(r for r in self.runs("push_existing") if r.id == run_id)).status in ("queued", "running"):
            due = self._next_scheduled_in()
            assert due is not None, f"run {run_id} is {run.status} with nothing queued or scheduled"
            time.sleep(max(0.0, due) + 0.2)
            more = self.run_worker()
            result = WorkerResult(result.seconds + more.seconds, max(result.peak_rss_mb, more.peak_rss_mb),
                                  result.jobs + more.jobs, result.failed + more.failed)
        assert run.status == "succeeded" and not run.failed, (run.status, run.message, run.errors[:3])
        return run, result, self.emulator.counters()

    def _next_scheduled_in(self) -> float | None:
        """Seconds until the earliest job scheduled on any queue is due (None: nothing scheduled)."""
        from app.queues import all_queues

        due = [score for queue in all_queues() for _job, score in queue.connection.zrange(
            queue.scheduled_job_registry.key, 0, 0, withscores=True)]  # scored by when each is due (epoch s)
        return (min(due) - time.time()) if due else None


def run_seconds(run) -> float:
    return (run.finished_at - run.started_at).total_seconds()


def outbox_loaded_by_create_app() -> bool:
    """Whether a process that only calls create_app() (the web app) has the outbox's session hooks."""
    code = "import sys; from app import create_app; create_app(); print('app.sync.outbox' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    return out.stdout.strip() == "True"


def google_user_events(stack: Stack):
    """The Calendar API events resource as the Google user themself (edits made 'in Google')."""
    from google.oauth2.credentials import Credentials
    from googleapiclient.discovery import build

    token = stack.emulator.issue_token(GOOGLE_EMAIL, CLIENT_ID, ["https://www.googleapis.com/auth/calendar"])
    return build("calendar", "v3", credentials=Credentials(token), static_discovery=True,
                 client_options={"api_endpoint": stack.emulator.api_endpoint}).events()
