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
import socket
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

from google_emulator.testing import free_port

ROOT = Path(__file__).resolve().parent.parent

PASSWORD = "bench password 1"
GOOGLE_EMAIL = "bench@example.com"
CLIENT_ID, CLIENT_SECRET = "bench-client", "bench-secret"
SIGN_IN_SCOPES = ("openid", "email", "profile")
WRITE_METHODS = ("insert", "patch", "update", "delete", "import", "move", "quickAdd")
# Config key → environment variable the app's config.py reads it from.
ENV_NAMES = {"SQLALCHEMY_DATABASE_URI": "DATABASE_URL", "REDIS_URL": "REDIS_URL", "REDIS_NAMESPACE": "REDIS_NAMESPACE",
             "GOOGLE_API_BASE_URL": "GOOGLE_API_BASE_URL",
             "GOOGLE_OPENID_CONFIGURATION_URL": "GOOGLE_OPENID_CONFIGURATION_URL",
             "GOOGLE_CLIENT_ID": "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET": "GOOGLE_CLIENT_SECRET",
             "WEBHOOK_BASE_URL": "WEBHOOK_BASE_URL", "PORTAL_BASE_URL": "PORTAL_BASE_URL"}


def wait_until(predicate, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def stop_process(proc: subprocess.Popen, timeout: float = 10) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


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

    def __init__(self, latency_ms: int = 0, database_url: str | None = None, webhooks: bool = False):
        """`webhooks`: Google's notifications reach `start_web()`'s gunicorn (the emulator is told to allow http
        webhooks to 127.0.0.1, a development relaxation); otherwise they go to a closed port."""
        self.latency_ms, self.database_url, self.webhooks = latency_ms, database_url, webhooks
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

        redis_port = free_port()
        self.procs.append(subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.tmp)], stdout=subprocess.DEVNULL))
        wait_until(lambda: port_open(redis_port), "redis-server")
        self.emulator = EmulatorServer.start(db_path=str(self.tmp / "emulator.sqlite3"),
                                             env={"EMULATOR_ALLOW_HTTP_WEBHOOKS": "1"} if self.webhooks else None)
        closed = f"http://127.0.0.1:{free_port()}"  # nothing listens: webhooks and redirects go nowhere
        self.web_port = free_port()
        self.settings = {
            "SQLALCHEMY_DATABASE_URI": self.database_url or f"sqlite:///{self.tmp / 'portal.sqlite3'}",
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "REDIS_NAMESPACE": f"b{uuid.uuid4().hex[:6]}",
            "GOOGLE_API_BASE_URL": self.emulator.base_url,
            "GOOGLE_OPENID_CONFIGURATION_URL": f"{self.emulator.base_url}/.well-known/openid-configuration",
            "GOOGLE_CLIENT_ID": CLIENT_ID, "GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
            "WEBHOOK_BASE_URL": f"http://127.0.0.1:{self.web_port}" if self.webhooks else closed,
            "PORTAL_BASE_URL": closed,
        }
        self.env = {**os.environ, "PORTAL_ENV": "development", "PYTHONPATH": str(ROOT),
                    **{ENV_NAMES[k]: v for k, v in self.settings.items()}}
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
        log = open(self.tmp / "gunicorn.log", "ab")
        self.procs.append(subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{self.web_port}", "--timeout",
             "60", "wsgi:app"], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT))
        log.close()
        wait_until(lambda: port_open(self.web_port), "gunicorn", timeout=60)

    # -- data -------------------------------------------------------------------------------------

    @property
    def db(self):
        from app.extensions import db

        return db

    def _seed_people(self) -> None:
        from app.models import Company, Role, User

        company = Company(name="Bench Co", slug="bench", settings={})
        self.user = User(company=company, email="staff@bench.test", name="Bench Staff", role=Role.STAFF,
                         timezone="Europe/London")
        self.contact = User(company=company, email="client@bench.test", name="Bench Client", role=Role.CLIENT,
                            timezone="Europe/London")
        for user in (self.user, self.contact):
            user.set_password(PASSWORD)
        self.db.session.add(company)
        self.db.session.commit()

    def connect(self, google_email: str, save: bool = True):
        """An ACTIVE 2-way connection to `google_email`'s primary calendar, with tokens the emulator issued."""
        from app.crypto import encrypt
        from app.google import REQUIRED_SCOPES
        from app.models import CalendarConnection, ConnectionKind, ConnectionStatus, utcnow

        if google_email != GOOGLE_EMAIL:
            self.emulator.add_account(google_email, google_email)
        token = self.emulator.issue_tokens(google_email, CLIENT_ID, [*REQUIRED_SCOPES, *SIGN_IN_SCOPES])
        connection = CalendarConnection(
            company_id=self.user.company_id, user_id=self.user.id, kind=ConnectionKind.TWO_WAY,
            status=ConnectionStatus.ACTIVE, google_email=google_email, calendar_id=google_email,
            calendar_summary=google_email, access_token_enc=encrypt(token["access_token"]),
            refresh_token_enc=encrypt(token["refresh_token"]), granted_scopes=token.get("scope", ""),
            token_expires_at=utcnow() + timedelta(seconds=int(token.get("expires_in", 3599)) - 60))
        if save:
            self.db.session.add(connection)
            self.db.session.commit()
        return connection

    def seed_items(self, n: int) -> None:
        """n items the user takes part in (tasks, events, appointments in turn), inserted in bulk."""
        from app.models import Appointment, Event, Task, utcnow
        from app.models.items import event_attendees, task_assignees

        start = utcnow().replace(microsecond=0, second=0, minute=0) + timedelta(days=1)
        company, me = self.user.company_id, self.user.id
        next_id = {model: (self.db.session.scalar(sa.select(sa.func.max(model.id))) or 0) + 1
                   for model in (Task, Event, Appointment)}
        rows: dict = {Task: [], Event: [], Appointment: [], task_assignees: [], event_attendees: []}
        for i in range(n):
            when = start + timedelta(hours=7 * i)
            model = (Task, Event, Appointment)[i % 3]
            item_id = next_id[model] + len(rows[model])
            common = {"id": item_id, "company_id": company, "title": f"{model.__name__} {i}",
                      "created_at": when, "updated_at": utcnow()}
            if model is Task:
                rows[Task].append({**common, "notes": f"notes {i}", "due_date": when.date(), "done": False})
                rows[task_assignees].append({"task_id": item_id, "user_id": me})
            elif model is Event:
                rows[Event].append({**common, "description": "d", "location": "HQ", "all_day": False,
                                    "start_at": when, "end_at": when + timedelta(hours=1),
                                    "timezone": "Europe/London"})
                rows[event_attendees].append({"event_id": item_id, "user_id": me})
            else:
                rows[Appointment].append({**common, "start_at": when, "end_at": when + timedelta(minutes=30),
                                          "timezone": "Europe/London", "staff_id": me,
                                          "contact_id": self.contact.id, "location": "", "meeting_link": ""})
        for target, batch in rows.items():
            if batch:
                table = target if isinstance(target, sa.Table) else target.__table__
                self.db.session.execute(sa.insert(table), batch)
        self.db.session.commit()

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
        from jobs.sync import enqueue_run

        run = new_run(self.connection(), RunKind.PUSH_EXISTING)
        self.db.session.commit()
        enqueue_run(run)
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

        from app.queues import worker_queue_names

        namespace = self.settings["REDIS_NAMESPACE"]
        before = self._finished_jobs()
        log_path = self.tmp / "worker.log"
        # Idle long enough for a coalesced push (due PUSH_COALESCE_SECONDS after the first edit) to start.
        idle = self.idle_exit_seconds + int(self.app.config["PUSH_COALESCE_SECONDS"]) + 1
        mode = ["--max-idle-time", str(idle)] if during else ["--burst"]
        with open(log_path, "ab") as log:
            started = time.monotonic()
            proc = subprocess.Popen(
                [sys.executable, "-m", "rq.cli", "worker", *mode, "--with-scheduler", "--worker-class",
                 "rq.worker.SimpleWorker", "--url", self.settings["REDIS_URL"], *worker_queue_names(namespace)],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        sampler = RssSampler(proc)
        if during:
            from app.queues import get_redis

            wait_until(lambda: Worker.all(connection=get_redis()) or proc.poll() is not None, "the worker")
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
        """Run Push Existing Data in the worker; returns (its run, the worker result, the emulator counters)."""
        self.emulator.reset_counters()
        run_id = self.enqueue_push_existing()
        result = self.run_worker()
        run = next(r for r in self.runs("push_existing") if r.id == run_id)
        assert run.status == "succeeded" and not run.failed, (run.status, run.message, run.errors[:3])
        return run, result, self.emulator.counters()


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
