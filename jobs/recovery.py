"""Finding work that a dead worker or a lost job left behind: values for the job boundary to act on.

A "running" run whose connection holds no lock lost its worker (the lock lives `SYNC_LOCK_SECONDS` without
the job's heartbeat), unless it is a bulk run between two slices: its next slice waits in a queue
(`note_continuation` marks it). A run queued for a while on an idle connection, or an outbox row that
missed its push, lost its job (a worker or Redis went away). This module ends the dead runs "interrupted"
(a conditional update: a job that finished a moment ago keeps its true ending) and returns what to resume;
`jobs.sync` enqueues it.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from app.extensions import db
from app.models import CalendarConnection, PendingPush, SyncRun, utcnow
from app.queues import get_redis, redis_key
from app.sync.runs import interrupt, running_runs, stale_queued_runs

from .locks import claim, locked_connections

STALE_QUEUED = timedelta(seconds=30)  # a run still queued this long after its connection fell idle lost its job
OVERDUE_PUSH = timedelta(seconds=20)  # an outbox row this old missed its push (Redis was away, a worker died)
RECENT_PUSH = timedelta(minutes=10)  # older rows (transient failures) wait for the 5-minute safety net
WAITING_JOB = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


def note_continuation(run_id: int, job: Job) -> None:
    """A bulk run's next slice waits in a queue as `job`: the run is "running" without holding a lock."""
    get_redis().set(_continuation_key(run_id), job.id, ex=7 * 86400)


def _continuation_key(run_id: int) -> str:
    return redis_key("run-continues", run_id)


def continues(run: SyncRun) -> bool:
    """Whether the run's next slice waits in a queue, or has just started (it takes the lock at once or waits
    in the queue again; a slice that started longer ago and holds no lock died with its worker)."""
    job_id = get_redis().get(_continuation_key(run.id))
    if job_id is None:
        return False
    try:
        job = Job.fetch(job_id.decode(), connection=get_redis())
    except NoSuchJobError:
        return False
    lock_life = timedelta(seconds=current_app.config["SYNC_LOCK_SECONDS"])
    just_started = job.started_at is not None and datetime.now(UTC) - job.started_at.replace(tzinfo=UTC) < lock_life
    return job.get_status() in WAITING_JOB or (job.get_status() == JobStatus.STARTED and just_started)


def settle_runs_of(connection: CalendarConnection) -> tuple[list[SyncRun], list[SyncRun]]:
    """Called holding the connection's lock: every other run still "running" here lost its worker, unless it is
    a bulk run between two slices. Returns (those bulk runs, the runs now ended "interrupted")."""
    running = running_runs(connection.id)
    continuing = [run for run in running if continues(run)]
    return continuing, _interrupted(run for run in running if run not in continuing)


def dead_runs() -> list[SyncRun]:
    """Every "running" run whose connection no live job holds and whose next slice waits nowhere: ended
    "interrupted" now, to be resumed."""
    running = running_runs()
    busy = locked_connections({run.connection_id for run in running})
    return _interrupted(run for run in running if run.connection_id not in busy and not continues(run))


def _interrupted(runs: Iterable[SyncRun]) -> list[SyncRun]:
    interrupted = [run for run in runs if interrupt(run)]
    db.session.commit()
    return interrupted


def lost_queued_runs() -> list[SyncRun]:
    """Runs queued for a while on a connection no job holds: their job was lost (each claimed once a minute)."""
    waiting = stale_queued_runs(STALE_QUEUED)
    busy = locked_connections({run.connection_id for run in waiting})
    return [run for run in waiting if run.connection_id not in busy and claim("requeue-run", run.id)]


def overdue_pushes() -> list[int]:
    """Connections whose outbox holds a recent change that missed its push (each claimed for 30 s)."""
    now = utcnow()
    overdue = db.session.scalars(sa.select(PendingPush.connection_id).distinct().where(
        PendingPush.queued_at.between(now - RECENT_PUSH, now - OVERDUE_PUSH), PendingPush.due(now))).all()
    busy = locked_connections(overdue)
    return [cid for cid in overdue if cid not in busy and claim("push-overdue", cid, 30)]
