"""Company Settings → Background jobs: the admin's own company's background work, in words.

One deployment serves many companies, so a company's admin sees only their company: its runs waiting or
under way, its jobs scheduled for later, and what failed, each in words with a reference support can look
up in the logs (`run=<id>`, `job=<id>` stamp every log line). Platform-wide figures (queue lengths, workers)
belong to the operators' metrics and logs, not to a tenant's page. Jobs are read from RQ's registries and
kept only when the run, connection or audit entry they name belongs to the admin's company; nothing of a
job's exception is shown (it is in the log).
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import render_template
from flask_login import current_user
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy.orm import joinedload

from ..access import admin_required
from ..extensions import db
from ..integrations.health import run_kind_label, run_status_label
from ..integrations.words import run_words
from ..models import AuditLog, CalendarConnection, Incident, MailProblem, MailState, RunStatus, SyncRun, User, utcnow
from ..queues import all_queues, get_redis
from . import bp

JOBS_LISTED = 50
JOBS_READ = 2000  # per registry
RUNS_LISTED = 20
FAILED_RUNS_SINCE = timedelta(days=7)
# What a job's first argument names, by the job function's parameter name.
OWNER_MODELS = {"run_id": SyncRun, "connection_id": CalendarConnection, "audit_id": AuditLog}
# What each job does, in words (the job functions of `jobs.sync`, `jobs.periodic` and `jobs.admin`).
JOB_WORDS = {
    "start_run": "A synchronization someone asked for", "continue_run": "The next part of a long synchronization",
    "resume_run": "A synchronization continuing after Google's limit", "push_changes": "Portal changes sent to Google",
    "pull_changes": "Google changes received", "poll_connection": "Regular check for changes made in Google",
    "renew_channel": "Live updates from Google renewed", "disconnect_connections": "Google connections removed",
}


# Why a person's sync mail has not gone, in words for their admin (`jobs.mail`).
MAIL_PROBLEM_WORDS = {
    MailProblem.ADDRESS_INVALID: "Their email address is not one mail can be sent to. Correct it, and the next "
                                 "notice reaches them.",
    MailProblem.REFUSED: "The mail server refused the message for good (for example an address that does not "
                         "exist).",
    MailProblem.DEFERRED: "The mail server asked us to try again later; we do.",
    MailProblem.UNREACHABLE: "The mail server could not be reached; we try again.",
}
MAIL_STATE_WORDS = {MailState.REFUSED: "Not sent", MailState.RETRYING: "Trying again"}


@dataclass(frozen=True)
class JobRow:
    what: str
    whose: str
    when: datetime | None
    reference: str


def job_owner(job: Job) -> tuple[type, int] | None:
    """(model, id) of the run, connection or audit entry a job works on, from its function's first parameter."""
    try:
        first = next(iter(inspect.signature(job.func).parameters), None)
    except Exception:  # a job whose function no longer imports names nothing we can check: not listed
        return None
    model = OWNER_MODELS.get(first)
    if model is None or not job.args or not isinstance(job.args[0], int):
        return None
    return model, job.args[0]


def owners_in_company(owners: set[tuple[type, int]], company_id: int) -> dict[tuple[type, int], str]:
    """Of these (model, id) pairs, those of `company_id`, each with whose work it is (one query per model)."""
    found: dict[tuple[type, int], str] = {}
    for model in {model for model, _ in owners}:
        ids = [row_id for m, row_id in owners if m is model]
        person = model.actor_id if model is AuditLog else model.user_id
        for row_id, name in db.session.execute(sa.select(model.id, User.name).outerjoin(User, User.id == person)
                                               .where(model.id.in_(ids), model.company_id == company_id)):
            found[model, row_id] = name or ""
    return found


def company_jobs(job_ids: list[str], company_id: int, when) -> list[JobRow]:
    """The jobs among `job_ids` that belong to `company_id`, in words, soonest first."""
    jobs = [job for job in Job.fetch_many(job_ids, connection=get_redis()) if job is not None]
    owners = {job.id: job_owner(job) for job in jobs}
    ours = owners_in_company({owner for owner in owners.values() if owner}, company_id)
    rows = [JobRow(JOB_WORDS.get((job.func_name or "").rsplit(".", 1)[-1], "Background work"),
                   ours[owners[job.id]], _aware(when(job)), job.id)
            for job in jobs if owners[job.id] in ours]
    return sorted(rows, key=lambda row: (row.when is None, row.when or datetime.min.replace(tzinfo=UTC)))[:JOBS_LISTED]


def _aware(moment: datetime | None) -> datetime | None:
    """RQ gives aware times, or naive ones meaning UTC: all aware, so they sort together."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def company_runs(company_id: int) -> tuple[list[SyncRun], list[SyncRun]]:
    """(runs waiting or under way, runs that failed in the last week) of the company, newest first."""
    query = sa.select(SyncRun).options(joinedload(SyncRun.user)).where(SyncRun.company_id == company_id)
    unfinished = db.session.scalars(query.where(SyncRun.status.in_((RunStatus.QUEUED, RunStatus.RUNNING)))
                                    .order_by(SyncRun.id.desc()).limit(RUNS_LISTED)).all()
    failed = db.session.scalars(query.where(SyncRun.status == RunStatus.FAILED,
                                            SyncRun.queued_at > utcnow() - FAILED_RUNS_SINCE)
                                .order_by(SyncRun.id.desc()).limit(RUNS_LISTED)).all()
    return list(unfinished), list(failed)


def unsent_mail(company_id: int) -> list[Incident]:
    """The company's sync-needs-you mails that could not go yet or at all, newest first."""
    return list(db.session.scalars(sa.select(Incident).options(joinedload(Incident.user)).where(
        Incident.company_id == company_id, Incident.mail_state.in_(tuple(MAIL_STATE_WORDS)),
        Incident.mail_problem.is_not(None)).order_by(Incident.id.desc()).limit(RUNS_LISTED)))


def scheduled_time(registries: dict, job: Job) -> datetime | None:
    """When a scheduled job runs; None if the scheduler moved it to its queue meanwhile."""
    try:
        return registries[job.origin].get_scheduled_time(job)
    except (KeyError, NoSuchJobError):
        return None


@bp.get("/operations")
@admin_required
def operations():
    queues = all_queues()
    scheduled = {queue.name: queue.scheduled_job_registry for queue in queues}
    unfinished, failed = company_runs(current_user.company_id)
    # The newest few thousand jobs of the platform are read to find the company's (a sketch for support, not a log).
    scheduled_ids = [job_id for registry in scheduled.values() for job_id in registry.get_job_ids(0, JOBS_READ - 1)]
    failed_ids = [job_id for queue in queues for job_id in queue.failed_job_registry.get_job_ids(0, JOBS_READ - 1,
                                                                                                 desc=True)]
    return render_template(
        "settings/operations.html", unfinished=unfinished, failed_runs=failed,
        scheduled=company_jobs(scheduled_ids, current_user.company_id, lambda job: scheduled_time(scheduled, job)),
        failed_jobs=company_jobs(failed_ids, current_user.company_id, lambda job: job.ended_at),
        unsent_mail=unsent_mail(current_user.company_id), mail_state_words=MAIL_STATE_WORDS,
        mail_problem_words=MAIL_PROBLEM_WORDS, run_kind_label=run_kind_label, run_status_label=run_status_label,
        run_words=lambda run: run_words(run, current_user.timezone))
