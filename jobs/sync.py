"""Sync jobs, one function per kind of work, and the one place that enqueues them (by function reference).

A job loads ids, takes its connection's lock, calls the sync engine and records progress on its SyncRun.
A job that finds its connection busy does not fail: it asks to be run again shortly. A job that may not
do its work (the connection went away or needs its user) ends its run in plain words. Every job that
takes a connection's lock first ends the runs a dead worker left "running" there and resumes their work;
`recover_runs` does the same every few seconds for connections no job touches.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from functools import partial

import sqlalchemy as sa
from flask import current_app
from redis.exceptions import RedisError
from rq import Queue, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db
from app.google import client_for
from app.google.client import CalendarClient
from app.models import CalendarConnection, PendingPush, RunKind, RunStatus, SyncRun, utcnow
from app.queues import BULK, INTERACTIVE, get_queue, get_redis, redis_key
from app.sync import pull, push, relocate
from app.sync.connections import disconnect
from app.sync.limits import instalments_message, next_instalment_at
from app.sync.outbox import PENDING_KEY
from app.sync.runs import (
    ASKED_FOR_AGAIN,
    NEEDS_ATTENTION,
    WORKERS_UNAVAILABLE,
    RunContinues,
    end_unstarted,
    interrupt,
    new_run,
    running_runs,
    stale_queued_runs,
    tracked,
)
from app.sync.scheduling import claim, connection_lock, locked_connections, release_claim
from app.sync.watch import watch_or_poll

from .runtime import app_context, run_logging

JOB_OPTIONS = {"job_timeout": 3600, "result_ttl": 600, "failure_ttl": 7 * 86400}  # failed jobs stay a week
RETRY_SECONDS = 15  # a busy connection's job runs again this much later
STALE_QUEUED = timedelta(seconds=30)  # a run still queued this long after its connection fell idle lost its job
OVERDUE_PUSH = timedelta(seconds=20)  # an outbox row this old missed its push (Redis was away, a worker died)
RECENT_PUSH = timedelta(minutes=10)  # older rows (transient failures) wait for the 5-minute safety net
SLICE_ITEMS = 500  # a bulk run gives its worker back after this many items (about a second)
WAITING_JOB = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}

Body = Callable[[CalendarClient, CalendarConnection, SyncRun], None]


# -- jobs started by a person: the SyncRun row exists and is committed before the job is enqueued ----------

def push_existing_data(run_id: int) -> None:
    """Push Existing Data: everything the user takes part in, then (2-way) start watching and pulling."""
    with app_context():
        _run_queued(run_id, push_existing_data, _bulk_slice)


def sync_now(run_id: int) -> None:
    """The user's "Sync now" (or a reconnect): push what is pending, then pull (2-way)."""
    with app_context():
        _run_queued(run_id, sync_now, _sync)


def change_calendar(run_id: int) -> None:
    """Move the portal's events to the run's calendar (no duplicates), then (2-way) watch and pull it."""
    with app_context():
        _run_queued(run_id, change_calendar, _bulk_slice)


def remove_events_and_delete(run_id: int) -> None:
    """Delete with "remove the events": the copies leave Google in batches, then the connection goes."""
    with app_context():
        _run_queued(run_id, remove_events_and_delete, _bulk_slice)


def resume_push_existing(connection_id: int, items_since: str | None) -> None:
    """The next instalment of Push Existing Data, or its continuation once Google's use limit has passed."""
    with app_context():
        connection = db.session.get(CalendarConnection, connection_id)
        if connection is None or not connection.can_sync:
            return
        run = new_run(connection, RunKind.PUSH_EXISTING)
        run.items_since = date.fromisoformat(items_since) if items_since else None
        db.session.commit()
        if not enqueue_run(run):
            db.session.commit()


def continue_bulk_run(run_id: int, kind: str, after_id: int) -> None:
    """The next slice of a bulk run that gave its worker back (the run is still "running")."""
    with app_context():
        run = db.session.get(SyncRun, run_id)
        if run is None or run.status != RunStatus.RUNNING:
            return  # ended meanwhile: cancelled with its connection, or interrupted and resumed by `recover_runs`
        connection = db.session.get(CalendarConnection, run.connection_id)
        with run_logging(run.id):
            if connection is None or not connection.can_sync:
                end_unstarted(run, RunStatus.CANCELLED, NEEDS_ATTENTION)
                db.session.commit()
                return
            with connection_lock(connection.id, wait=0) as locked:
                if not locked:  # another job holds it for a moment: wait in the queue, not in a worker
                    return _continue_later(run, (kind, after_id), timedelta(seconds=RETRY_SECONDS))
                db.session.refresh(run)
                if run.status == RunStatus.RUNNING:  # not found dead (and resumed) in the meantime
                    _bulk_slice(run, connection, (kind, after_id))


def _push_everything(client: CalendarClient, connection: CalendarConnection, run: SyncRun,
                     after: push.Cursor | None) -> None:
    stopped = _unless_continuing(push.push_existing_data(client, connection, run, after, SLICE_ITEMS))
    if stopped is None:
        run.message = (f"Synchronization complete: {run.created} created, {run.updated} updated"
                       + (f", {run.failed} failed." if run.failed else "."))
    else:
        run.message = f"{run.done:,} of {run.total:,} items pushed. " + _in_instalments(connection, run)


def _move(client: CalendarClient, connection: CalendarConnection, run: SyncRun, after: push.Cursor | None) -> None:
    stopped = _unless_continuing(relocate.move_to_calendar(client, connection, run, after, SLICE_ITEMS))
    run.message = (f"Moved to {run.calendar_summary}: {run.deleted} removed from the old calendar, "
                   f"{run.created + run.updated} in the new one" + (f", {run.failed} failed." if run.failed else "."))
    if stopped is not None:  # the day's creation ceiling: the rest follows as Push Existing Data instalments
        run.message += " " + _in_instalments(connection, run)


def _remove_events(client: CalendarClient, connection: CalendarConnection, run: SyncRun,
                   after: push.Cursor | None) -> None:
    _unless_continuing(relocate.remove_pushed_events(client, connection, run, after[1] if after else None, SLICE_ITEMS))
    run.message = (f"{run.deleted} event(s) removed from Google; the connection is deleted."
                   + (f" {run.failed} could not be removed." if run.failed else ""))


BULK_BODIES = {RunKind.PUSH_EXISTING: _push_everything, RunKind.CHANGE_CALENDAR: _move,
               RunKind.REMOVE_EVENTS: _remove_events}


def _unless_continuing(stopped: push.Stopped | None) -> push.Stopped | None:
    """A slice that stopped for its size or Google's quota goes on in the next one; the day's creation ceiling
    (returned) ends the run, with the rest in daily instalments."""
    if stopped is not None and not stopped.ceiling:
        raise RunContinues(*stopped.cursor, after_seconds=stopped.wait_seconds)
    return stopped


def _in_instalments(connection: CalendarConnection, run: SyncRun) -> str:
    """The day's creation ceiling is reached: the rest follows in daily instalments. Returns the words for it."""
    at = next_instalment_at()
    get_queue(BULK).enqueue_at(at, resume_push_existing, connection.id,
                               run.items_since.isoformat() if run.items_since else None, **JOB_OPTIONS)
    return instalments_message(connection, run.total - run.done, at)


def _bulk_slice(run: SyncRun, connection: CalendarConnection, after: push.Cursor | None = None) -> None:
    """One slice of a bulk run, then either the next one queued behind whatever else waits, or the run's end:
    a removal deletes the connection; Push Existing Data and a move start watching and pulling (2-way)."""
    try:
        _tracked(run, connection, partial(BULK_BODIES[run.kind], after=after))
    except RunContinues as more:
        _continue_later(run, more.resume_at, timedelta(seconds=more.after_seconds) if more.after_seconds else None)
        return
    if run.kind is not RunKind.REMOVE_EVENTS:
        _first_pull(run, connection)
    elif run.status == RunStatus.SUCCEEDED:
        disconnect(connection, connection.user)
        db.session.commit()


def _continue_later(run: SyncRun, resume_at: tuple, delay: timedelta | None = None) -> None:
    """Queue the next slice at the end of the bulk queue, and mark the run as continuing, so `recover_runs`
    knows that a "running" run whose connection is unlocked has not lost its worker."""
    queue = get_queue(BULK)
    job = (queue.enqueue_in(delay, continue_bulk_run, run.id, *resume_at, **JOB_OPTIONS) if delay
           else queue.enqueue(continue_bulk_run, run.id, *resume_at, **JOB_OPTIONS))
    get_redis().set(_continuation_key(run.id), job.id, ex=7 * 86400)


def _continuation_key(run_id: int) -> str:
    return redis_key("run-continues", run_id)


def _continues(run: SyncRun) -> bool:
    """Whether the run's next slice waits in a queue, or has just started (it takes the lock at once or waits
    in the queue again; a slice that started longer ago and holds no lock died with its worker)."""
    job_id = get_redis().get(_continuation_key(run.id))
    if job_id is None:
        return False
    try:
        job = Job.fetch(job_id.decode(), connection=get_redis())
    except NoSuchJobError:
        return False
    status = job.get_status()
    lock_life = timedelta(seconds=current_app.config["SYNC_LOCK_SECONDS"])
    just_started = job.started_at is not None and datetime.now(UTC) - job.started_at.replace(tzinfo=UTC) < lock_life
    return status in WAITING_JOB or (status == JobStatus.STARTED and just_started)


def _push_and_pull(client: CalendarClient, connection: CalendarConnection, run: SyncRun) -> None:
    if not connection.writes_paused:  # Google's use limit: the job scheduled for the pause's end pushes
        push.push_pending(client, connection, run)
    _watch_and_pull(client, connection, run)


def _sync(run: SyncRun, connection: CalendarConnection) -> None:
    _tracked(run, connection, _push_and_pull)


def _run_queued(run_id: int, job: Callable[[int], None],
                start: Callable[[SyncRun, CalendarConnection], None]) -> None:
    run = db.session.get(SyncRun, run_id)
    if run is None or run.status != RunStatus.QUEUED:
        return  # already run by an earlier copy of this job (the sweep re-enqueues runs that wait too long)
    connection = db.session.get(CalendarConnection, run.connection_id) if run.connection_id else None
    with run_logging(run.id):
        if connection is None or not connection.can_sync:
            end_unstarted(run, RunStatus.CANCELLED, NEEDS_ATTENTION)
            db.session.commit()
            return
        with connection_lock(connection.id) as locked:
            if not locked:
                return retry_later(job, run_id)
            db.session.refresh(run)
            if run.status != RunStatus.QUEUED:
                return
            if _recover_runs_of(connection):
                return retry_later(job, run_id)
            start(run, connection)


def _first_pull(run: SyncRun, connection: CalendarConnection) -> None:
    """After Push Existing Data or a calendar move (2-way): start watching and take Google's side in."""
    if run.status == RunStatus.SUCCEEDED and connection.pulls:
        first_pull = new_run(connection, RunKind.PULL)
        db.session.commit()
        with run_logging(first_pull.id):
            _tracked(first_pull, connection, _watch_and_pull)


def _watch_and_pull(client: CalendarClient, connection: CalendarConnection, run: SyncRun) -> None:
    """2-way: open a watch channel if there is none, then pull (a 1-way connection does neither)."""
    if connection.pulls and not connection.channel_id:
        watch_or_poll(client, connection)  # a refused channel never fails the sync: we poll instead
    pull.pull_changes(client, connection, run)


def _tracked(run: SyncRun, connection: CalendarConnection, body: Body) -> None:
    current_app.logger.info("%s run %s started for connection %s", run.kind, run.id, connection.id)
    paused_until = connection.writes_paused_until
    with tracked(run, connection):
        body(client_for(connection), connection, run)
    if connection.writes_paused_until != paused_until:  # Google's use limit began during this run
        _resume_after_pause(connection, run)
    current_app.logger.info("%s run %s ended %s: %s", run.kind, run.id, run.status, run.message)


def _resume_after_pause(connection: CalendarConnection, run: SyncRun) -> None:
    """The writes continue by themselves when Google's use limit has passed: the outbox kept every change, and
    a bulk run (a push, a move, a removal) is asked for again as it was."""
    if run.kind in BULK_BODIES:
        get_queue(BULK).enqueue_at(connection.writes_paused_until, resume_run, run.id, **JOB_OPTIONS)
    else:
        get_queue(INTERACTIVE).enqueue_at(connection.writes_paused_until, push_changes, connection.id, **JOB_OPTIONS)


def resume_run(run_id: int) -> None:
    """A bulk run that Google's use limit stopped, the same again once the limit has passed."""
    with app_context():
        run = db.session.get(SyncRun, run_id)
        if run is not None:
            _resume(run)


# -- jobs started by changes: coalesced per connection; the run is created once the lock is held ------------

def push_changes(connection_id: int) -> None:
    """Drain the connection's outbox (scheduled, coalesced, after each committed item change)."""
    with app_context():
        release_claim("push", connection_id)
        connection = db.session.get(CalendarConnection, connection_id)
        if connection is not None and connection.writes_paused:
            return  # Google's use limit: the job scheduled for the end of the pause drains the outbox
        if db.session.scalar(sa.select(PendingPush.id).where(
                PendingPush.connection_id == connection_id, PendingPush.due(utcnow())).limit(1)):
            run_for_connection(connection_id, RunKind.PUSH, push_changes, push.push_pending)
        # else: another job already drained it, or what is left waits for its backoff


def pull_changes(connection_id: int) -> None:
    """Apply Google's changes (webhook-triggered or the periodic safety net)."""
    with app_context():
        release_claim("pull", connection_id)
        run_for_connection(connection_id, RunKind.PULL, pull_changes, pull.pull_changes)


def run_for_connection(connection_id: int, kind: RunKind, job: Callable[[int], None], body: Body) -> None:
    """A run of `kind` for the connection, made once its lock is held (a busy connection: the job again later)."""
    connection = db.session.get(CalendarConnection, connection_id)
    if connection is None or not connection.can_sync:
        return  # deleted, or waiting for the user to reconnect (the outbox keeps what waits): no run, no loop
    with connection_lock(connection_id) as locked:
        if not locked:
            return retry_later(job, connection_id)
        continuing = _recover_runs_of(connection)
        # The user's edits go on between the slices of their own Push Existing Data (hours long under Google's
        # quota): both are idempotent upserts under the same deterministic event ids, so neither duplicates.
        # They wait for a move or a removal, which would take them out of Google again.
        if continuing and not (kind is RunKind.PUSH and all(r.kind is RunKind.PUSH_EXISTING for r in continuing)):
            return retry_later(job, connection_id)
        run = new_run(connection, kind)
        db.session.commit()
        with run_logging(run.id):
            _tracked(run, connection, body)


# -- enqueueing ---------------------------------------------------------------------------------------------

RUN_JOBS: dict[RunKind, Callable[..., None]] = {
    RunKind.PUSH_EXISTING: push_existing_data, RunKind.SYNC: sync_now,
    RunKind.CHANGE_CALENDAR: change_calendar, RunKind.REMOVE_EVENTS: remove_events_and_delete,
}


def enqueue_run(run: SyncRun) -> bool:
    """Enqueue the job of an already committed run (write the record, then enqueue).

    Without Redis the run ends "failed" in plain words instead of staying queued; the caller commits that.
    """
    try:
        # A person waits for "Sync now"; the others move every item, so they never delay anyone's edits.
        get_queue(BULK if run.kind.is_bulk else INTERACTIVE).enqueue(RUN_JOBS[run.kind], run.id,
                                                                     job_id=run_job_id(run.id), **JOB_OPTIONS)
    except RedisError:
        current_app.logger.exception("could not enqueue sync run %s", run.id)
        end_unstarted(run, RunStatus.FAILED, WORKERS_UNAVAILABLE)
        return False
    return True


def run_job_id(run_id: int) -> str:
    """The RQ job id of a run's job: operators find the run from RQ's views, and RQ's from the run."""
    return f"{current_app.config['REDIS_NAMESPACE']}-run-{run_id}"


def retry_later(job: Callable[..., None], *args: int | str) -> None:
    """The connection is busy: run this job again shortly, on the queue it came from, instead of failing it."""
    current = get_current_job()
    queue = Queue(current.origin, connection=get_redis()) if current else get_queue()
    queue.enqueue_in(timedelta(seconds=RETRY_SECONDS), job, *args, **JOB_OPTIONS)


def _enqueue_now(job: Callable[[int], None], connection_id: int) -> None:
    """Interactive: the outbox's pushes and the pulls Google's notifications ask for."""
    get_queue(INTERACTIVE).enqueue(job, connection_id, **JOB_OPTIONS)


def schedule_push(connection_id: int) -> bool:
    """A push after PUSH_COALESCE_SECONDS, so every change made before it starts rides along with it."""
    if not claim("push", connection_id):
        return False
    delay = current_app.config["PUSH_COALESCE_SECONDS"]
    if delay:
        get_queue(INTERACTIVE).enqueue_in(timedelta(seconds=delay), push_changes, connection_id, **JOB_OPTIONS)
    else:
        _enqueue_now(push_changes, connection_id)
    return True


def schedule_pull(connection_id: int) -> bool:
    """At most one waiting pull per connection: a burst of notifications becomes one job."""
    if not claim("pull", connection_id):
        return False
    _enqueue_now(pull_changes, connection_id)
    return True


@event.listens_for(Session, "after_commit")
def _schedule_pushes_after_commit(session: Session) -> None:
    """The outbox (`app.sync.outbox`) noted which connections got rows in this transaction: push them."""
    connection_ids = session.info.pop(PENDING_KEY, None)
    if not connection_ids:
        return
    try:
        for connection_id in sorted(connection_ids):
            schedule_push(connection_id)
    except RedisError:  # the outbox rows are committed: `recover_runs` pushes them once Redis is back
        current_app.logger.warning("Redis unavailable: pushes for %s wait for the sweep", connection_ids)


# -- recovery -----------------------------------------------------------------------------------------------

def _recover_runs_of(connection: CalendarConnection) -> list[SyncRun]:
    """Called holding the connection's lock: any other run still "running" here lost its worker, unless it is a
    bulk run between two slices. Returns those: until they end, this connection's pulls, polls and other runs
    wait for them (their end starts watching and pulling); the user's own edits may not (see
    `run_for_connection`), and other users' work never does."""
    running = running_runs(connection.id)
    continuing = [run for run in running if _continues(run)]
    _interrupt_and_resume(run for run in running if run not in continuing)
    return continuing


def _interrupt_and_resume(dead: Iterable[SyncRun]) -> int:
    interrupted = [run for run in dead if interrupt(run)]
    db.session.commit()
    for run in interrupted:
        _resume(run)
    return len(interrupted)


def _resume(run: SyncRun) -> None:
    """The interrupted work again: every step of it is idempotent, so what was done is not done twice."""
    connection = db.session.get(CalendarConnection, run.connection_id)
    if connection is None or not connection.can_sync:
        return
    if run.kind in RUN_JOBS:  # a person's request: the same again, as they asked for it
        again = new_run(connection, run.kind)
        again.items_since, again.calendar_id, again.calendar_summary = (run.items_since, run.calendar_id,
                                                                        run.calendar_summary)
        db.session.commit()
        if not enqueue_run(again):
            db.session.commit()
    elif run.kind in ASKED_FOR_AGAIN:
        _enqueue_now(push_changes if run.kind is RunKind.PUSH else pull_changes, connection.id)


def recover_runs() -> int:
    """Cron, every 15 s: end the runs dead workers left behind and resume their work; re-enqueue lost jobs.

    A "running" run whose connection holds no lock lost its worker (the lock lives 20 s without the
    job's heartbeat). A run queued for a while on an idle connection, or an outbox row that missed its
    push, lost its job (a worker or Redis went away). Duplicated jobs are harmless: each one takes the
    connection's lock and finds its work done. Returns how many runs it ended.
    """
    with app_context():
        running = running_runs()
        busy = locked_connections({run.connection_id for run in running})
        ended = _interrupt_and_resume(run for run in running if run.connection_id not in busy and not _continues(run))
        waiting = stale_queued_runs(STALE_QUEUED)
        busy = locked_connections({run.connection_id for run in waiting})
        for run in waiting:
            if run.connection_id not in busy and claim("requeue-run", run.id) and not enqueue_run(run):
                db.session.commit()
        now = utcnow()
        overdue = db.session.scalars(sa.select(PendingPush.connection_id).distinct().where(
            PendingPush.queued_at.between(now - RECENT_PUSH, now - OVERDUE_PUSH), PendingPush.due(now))).all()
        busy = locked_connections(overdue)
        for connection_id in overdue:
            if connection_id not in busy and claim("push-overdue", connection_id, 30):
                _enqueue_now(push_changes, connection_id)
        return ended

