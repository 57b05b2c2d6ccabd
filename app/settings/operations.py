"""The operator page: queues, workers, scheduled and failed jobs, read from RQ's own registries.

A small page of our own rather than rq-dashboard: an admin here is a company's admin, and one
deployment serves many companies. Counts and workers are infrastructure (no tenant data) and are
shown whole; a job is listed (name, times, error) only when the run or connection it names
belongs to the admin's company, so no other tenant's details or error texts are ever shown.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import render_template
from flask_login import current_user
from redis import Redis
from rq import Queue, Worker
from rq.job import Job

from ..access import admin_required
from ..extensions import db
from ..models import CalendarConnection, SyncRun
from ..queues import all_queues, get_redis
from . import bp

JOBS_LISTED = 50
# What a job's first argument names, by the job function's parameter name.
OWNER_MODELS = {"run_id": SyncRun, "connection_id": CalendarConnection}


@dataclass(frozen=True)
class QueueFigures:
    name: str
    queued: int
    running: int
    scheduled: int
    failed: int


@dataclass(frozen=True)
class WorkerRow:
    name: str
    state: str
    current_job: str | None
    last_heartbeat: datetime | None


@dataclass(frozen=True)
class JobRow:
    id: str
    function: str
    when: datetime | None
    error: str | None


@dataclass(frozen=True)
class JobList:
    rows: list[JobRow]
    not_listed: int  # jobs of other companies, or system-wide ones, counted but not shown


def queue_figures(queue: Queue) -> QueueFigures:
    return QueueFigures(queue.name, queue.count, queue.started_job_registry.count,
                        queue.scheduled_job_registry.count, queue.failed_job_registry.count)


def worker_rows(queue: Queue) -> list[WorkerRow]:
    def state(worker: Worker) -> str:
        value = worker.get_state()  # an enum for this process's workers, a plain string read back from Redis
        return getattr(value, "value", value)

    return [WorkerRow(w.name, state(w), w.get_current_job_id(), w.last_heartbeat) for w in Worker.all(queue=queue)]


def job_owner(job: Job) -> tuple[type, int] | None:
    """(model, id) of the run or connection a job works on, from its function's first parameter."""
    try:
        first = next(iter(inspect.signature(job.func).parameters), None)
    except Exception:  # a job whose function no longer imports is still listed as someone's
        return None
    model = OWNER_MODELS.get(first)
    if model is None or not job.args or not isinstance(job.args[0], int):
        return None
    return model, job.args[0]


def company_jobs(job_ids: list[str], connection: Redis, company_id: int, when, newest_first: bool = False) -> JobList:
    """The jobs among `job_ids` that belong to `company_id`, in the order of `when(job)`, the time shown."""
    jobs = [job for job in Job.fetch_many(job_ids, connection=connection) if job is not None]
    owners = {job.id: job_owner(job) for job in jobs}
    ids_by_model: dict[type, set[int]] = {}
    for owner in filter(None, owners.values()):
        ids_by_model.setdefault(owner[0], set()).add(owner[1])
    ours = {(model, row_id) for model, ids in ids_by_model.items()
            for row_id in db.session.scalars(sa.select(model.id).where(model.id.in_(ids),
                                                                      model.company_id == company_id))}
    rows = sorted((JobRow(job.id, job.func_name or "?", when(job), failure(job))
                   for job in jobs if owners[job.id] in ours),
                  key=lambda row: row.when or datetime.max, reverse=newest_first)
    return JobList(rows[:JOBS_LISTED], len(job_ids) - len(rows))


def failure(job: Job) -> str | None:
    """The exception line of a failed job's traceback: enough to recognise it; the log has the rest."""
    result = job.latest_result()
    lines = [line for line in ((result and result.exc_string) or "").splitlines() if line.strip()]
    return lines[-1] if lines else None


@bp.get("/operations")
@admin_required
def operations():
    queues, redis = all_queues(), get_redis()
    scheduled = {queue.name: queue.scheduled_job_registry for queue in queues}
    scheduled_ids = [job_id for registry in scheduled.values() for job_id in registry.get_job_ids()]
    failed_ids = [job_id for queue in queues for job_id in queue.failed_job_registry.get_job_ids(desc=True)]
    return render_template(
        "settings/operations.html", queues=[queue_figures(queue) for queue in queues],
        workers=worker_rows(queues[0]),  # every worker listens to every queue, in priority order
        scheduled=company_jobs(scheduled_ids, redis, current_user.company_id,
                               lambda job: scheduled[job.origin].get_scheduled_time(job)),
        failed=company_jobs(failed_ids, redis, current_user.company_id, lambda job: job.ended_at, newest_first=True))
