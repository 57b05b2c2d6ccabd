"""The sync jobs RQ runs, and how each is asked for.

Each job loads ids, takes its connection's lock (`jobs.locks`), ends what a dead worker left (`jobs.recovery`), lets
the engine perform the run (`app.sync.engine`) and acts on the `Next` it returns: a bulk run's next slice, the same
work later, a follow-up run. A job meeting a busy connection or Google down runs again later. Views and the broker
ask through `submit`, `schedule_push`, `schedule_pull`; `create_app` installs the after-commit push.
"""
from __future__ import annotations

import logging
from datetime import date

import sqlalchemy as sa
from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.extensions import db
from app.google.outage import google_wait
from app.models import CalendarConnection, PendingPush, RunKind, RunStatus, SyncRun, utcnow
from app.queues import BULK, INTERACTIVE
from app.sync.bulk import Cursor
from app.sync.context import Sync
from app.sync.engine import Next, perform, waits_behind
from app.sync.kinds import RUN_KINDS
from app.sync.notes import Code, Note
from app.sync.outbox import pushes_after_commit
from app.sync.runs import end_orphans, end_unstarted, new_run
from app.sync.settings import SyncSettings

from . import recovery
from .locks import claim, connection_lock, pull_delay, pull_starting, release_claim
from .queueing import RETRY_SECONDS, enqueue, retry_later, run_job_id, wait_for_google
from .runtime import run_logging

log = logging.getLogger(__name__)

# -- asking for work ----------------------------------------------------------------------------------------


def submit(run: SyncRun) -> bool:
    """Commit a person's run, then enqueue its job; one that cannot be queued (no Redis) ends "failed"."""
    db.session.commit()
    try:
        enqueue(start_run, run.id, queue=RUN_KINDS[run.kind].queue, job_id=run_job_id(run.id),
                description=f"{RUN_KINDS[run.kind].label} (run {run.id})")
    except RedisError:
        log.exception("could not enqueue sync run %s", run.id)
        end_unstarted(run, RunStatus.FAILED, Note(Code.WORKERS_UNAVAILABLE))
        db.session.commit()
        return False
    return True


def schedule_push(connection_id: int) -> bool:
    """A push after PUSH_COALESCE_SECONDS, so every change made before it starts rides along with it."""
    if not claim("push", connection_id):
        return False
    enqueue(push_changes, connection_id, delay=current_app.config["PUSH_COALESCE_SECONDS"])
    return True


def schedule_pull(connection_id: int) -> bool:
    """At most one waiting pull per connection, started no sooner than the spacing allows (`pull_delay`)."""
    if not claim("pull", connection_id):
        return False
    enqueue(pull_changes, connection_id, delay=pull_delay(connection_id))
    return True


def install_push_after_commit() -> None:
    """After every commit, a push for each connection that got outbox rows in it (called by `create_app`)."""
    if not event.contains(Session, "after_commit", _push_after_commit):
        event.listen(Session, "after_commit", _push_after_commit)


def _push_after_commit(session: Session) -> None:
    connection_ids = pushes_after_commit(session)
    try:
        for connection_id in sorted(connection_ids):
            schedule_push(connection_id)
    except RedisError:  # the outbox rows are committed: `recover_runs` pushes them once Redis is back
        log.warning("Redis unavailable: pushes for %s wait for the sweep", connection_ids)


# -- the jobs -----------------------------------------------------------------------------------------------

def start_run(run_id: int) -> None:
    """A person's run (Push Existing Data, Sync now, a move, a removal), queued and committed by `submit`."""
    run = db.session.get(SyncRun, run_id)
    if run is None or run.status != RunStatus.QUEUED:
        return  # already run by an earlier copy of this job (recovery re-enqueues runs that wait too long)
    with run_logging(run.id):
        if (connection := _syncable(run)) is None:
            return
        with connection_lock(connection.id) as locked:
            if not locked:
                return retry_later(start_run, run_id)
            db.session.refresh(run)
            if run.status != RunStatus.QUEUED:
                return
            continuing, dead = recovery.settle_runs_of(connection)
            for ended in dead:
                _resume(ended, ended.kind)
            if continuing:
                return retry_later(start_run, run_id)
            _perform(connection, run)


def continue_run(run_id: int, at: Cursor) -> None:
    """The next slice of a bulk run that gave its worker back (the run is still "running")."""
    run = db.session.get(SyncRun, run_id)
    if run is None or run.status != RunStatus.RUNNING:
        return  # ended meanwhile: cancelled with its connection, or interrupted and resumed by recovery
    with run_logging(run.id):
        if (connection := _syncable(run)) is None:
            return
        with connection_lock(connection.id, wait=0) as locked:
            if not locked:  # another job holds it for a moment: wait in the queue, not in a worker
                return _continue_later(run, Next(slice_at=at, after_seconds=RETRY_SECONDS))
            db.session.refresh(run)
            if run.status == RunStatus.RUNNING:  # not found dead (and resumed) in the meantime
                _perform(connection, run, at)


def resume_run(run_id: int, kind: RunKind) -> None:
    """A run's work again, as `kind`: after Google's use limit or an outage, or the next daily instalment."""
    if (run := db.session.get(SyncRun, run_id)) is not None:
        _resume(run, kind)


def push_changes(connection_id: int) -> None:
    """Drain the connection's outbox (scheduled, coalesced, after each committed item change)."""
    release_claim("push", connection_id)
    connection = db.session.get(CalendarConnection, connection_id)
    if connection is None or connection.writes_paused:
        return  # gone; or Google's use limit: the job scheduled for the pause's end pushes
    if db.session.scalar(sa.select(PendingPush.id).where(
            PendingPush.connection_id == connection_id, PendingPush.due(utcnow())).limit(1)):
        run_for_connection(connection_id, RunKind.PUSH, push_changes)
    # else: another job already drained it, or what is left waits for its backoff


def pull_changes(connection_id: int) -> None:
    """Apply Google's changes (a notification asked for them, or recovery)."""
    run_for_connection(connection_id, RunKind.PULL, pull_changes, starting=pull_starting)


def run_for_connection(connection_id: int, kind: RunKind, job: object, starting=None) -> None:
    """A run of `kind` asked for by changes (no person waits): made once the connection's lock is held, or the
    job `job` again later while the connection is busy or its bulk run says to wait."""
    connection = db.session.get(CalendarConnection, connection_id)
    if connection is None or not connection.can_sync:
        return  # deleted, or waiting for the user to reconnect (the outbox keeps what waits): no run, no loop
    if wait := google_wait(connection):  # Google down: the work waits in the queue, making no run meanwhile
        return wait_for_google(job, connection_id, wait)
    with connection_lock(connection_id) as locked:
        if not locked:
            return retry_later(job, connection_id)
        continuing, dead = recovery.settle_runs_of(connection)
        for ended in dead:
            _resume(ended, ended.kind)
        if waits_behind(kind, continuing):
            return retry_later(job, connection_id)
        if starting:
            starting(connection_id)
        run = new_run(connection, kind)
        db.session.commit()  # a connection deleted a moment ago fails this: the lock ends the job quietly
        with run_logging(run.id):
            _perform(connection, run)


def recover_runs() -> int:
    """Cron, every 15 s: end the runs dead workers (or a deleted connection) left and resume their work; re-enqueue
    lost jobs and missed pushes (a duplicate finds its work done). Returns how many runs it ended."""
    for run in (dead := recovery.dead_runs()):
        _resume(run, run.kind)
    end_orphans()
    db.session.commit()
    for run in recovery.lost_queued_runs():
        submit(run)
    for connection_id in recovery.overdue_pushes():
        enqueue(push_changes, connection_id)
    return len(dead)


# Jobs queued under their names before the run layer's redesign (Dec 2026) still run after the upgrade.
push_existing_data = sync_now = change_calendar = remove_events_and_delete = start_run


def continue_bulk_run(run_id: int, kind: str, after_id: int) -> None:
    continue_run(run_id, Cursor(kind, after_id))


def resume_push_existing(connection_id: int, items_since: str | None) -> None:
    connection = db.session.get(CalendarConnection, connection_id)
    if connection is not None and connection.can_sync:
        submit(new_run(connection, RunKind.PUSH_EXISTING,
                       items_since=date.fromisoformat(items_since) if items_since else None))


# -- what a job does around the engine ------------------------------------------------------------------------

def _syncable(run: SyncRun) -> CalendarConnection | None:
    """The run's connection, if it may sync; else the run ends "cancelled" and None."""
    connection = db.session.get(CalendarConnection, run.connection_id) if run.connection_id else None
    if connection is not None and connection.can_sync:
        return connection
    end_unstarted(run, RunStatus.CANCELLED, Note(Code.NEEDS_ATTENTION))
    db.session.commit()
    return None


def _perform(connection: CalendarConnection, run: SyncRun, at: Cursor | None = None) -> None:
    """The engine performs the run (holding the connection's lock); then what it says follows."""
    after = perform(Sync(connection, run, SyncSettings.from_config(current_app.config)), at)
    _continue_later(run, after)
    if after.follow_up is not None:
        with run_logging(after.follow_up.id):
            _perform(connection, after.follow_up)


def _continue_later(run: SyncRun, after: Next) -> None:
    """Act on the engine's `Next`: a bulk run's next slice at the end of its queue (marked, so recovery knows
    the run has not lost its worker), or its work again at a time Google or the day's ceiling names."""
    if after.slice_at is not None:
        job = enqueue(continue_run, run.id, after.slice_at, queue=BULK, delay=after.after_seconds)
        recovery.note_continuation(run.id, job)
    elif after.again_at is not None:
        enqueue(resume_run, run.id, after.again_as, queue=RUN_KINDS[after.again_as].queue, at=after.again_at)


def _resume(run: SyncRun, kind: RunKind) -> None:
    """The work of an ended run again, as `kind` (every step is idempotent, so what was done is not done twice):
    a person's request is made again with the run's parameters; the rest is asked of the outbox or a pull."""
    connection = db.session.get(CalendarConnection, run.connection_id) if run.connection_id else None
    if connection is None or not connection.can_sync:
        return
    if wait := google_wait(connection):  # Google down: asked again once it may be back, no run made meanwhile
        enqueue(resume_run, run.id, kind, queue=RUN_KINDS[kind].queue, delay=wait)
    elif not RUN_KINDS[kind].by_itself:
        target = {"calendar_id": run.calendar_id, "calendar_summary": run.calendar_summary} if kind == run.kind else {}
        try:
            submit(new_run(connection, kind, items_since=run.items_since, **target))
        except IntegrityError:  # the connection was deleted a moment ago: nothing to resume
            db.session.rollback()
    else:
        enqueue(push_changes if kind is RunKind.PUSH else pull_changes, connection.id, queue=INTERACTIVE)
