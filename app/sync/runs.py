"""A SyncRun's life, set in one place: queued → running → succeeded | failed | cancelled | interrupted.

Nothing here commits for a view; `tracked` commits the run's own progress inside a job, which owns its
transaction. Every status a page can show is written by a function of this module.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..google import AuthRevoked, GoogleError, UsageLimited
from ..models import CalendarConnection, ConnectionStatus, RunKind, RunStatus, SyncRun, utcnow
from .limits import pause_writes

MAX_STORED_ERRORS = 50
INTERRUPTED_MESSAGE = "Stopped unexpectedly (the background worker running it went away); resumed automatically."
WORKERS_UNAVAILABLE = "The background workers are unavailable right now. Please try again in a few minutes."
NEEDS_ATTENTION = "Nothing was synced: the connection needs your attention first (see its card)."
# The work of these runs is asked for again without anyone: the outbox keeps what waits, polls and
# notifications bring Google's changes. The others were a person's request: after a crash, they ask again.
ASKED_FOR_AGAIN = (RunKind.PUSH, RunKind.PULL, RunKind.FULL_RESYNC)
CRASHED = {True: "An unexpected error stopped the sync; it will be tried again by itself.",
           False: "An unexpected error stopped this before it ended. Please try again; the details are logged "
                  "for support."}


class RunContinues(Exception):  # noqa: N818  not an error: a signal, like StopIteration
    """Raised by a run's body that gives its worker back mid-run; its next slice is queued by the job.

    The run stays "running" (truthfully: its work goes on), its progress is committed.
    """

    def __init__(self, *resume_at: object, after_seconds: float = 0) -> None:
        super().__init__(*resume_at)
        self.resume_at, self.after_seconds = resume_at, after_seconds


def new_run(connection: CalendarConnection, kind: RunKind) -> SyncRun:
    run = SyncRun(company_id=connection.company_id, user_id=connection.user_id, connection_id=connection.id,
                  kind=kind, status=RunStatus.QUEUED)
    db.session.add(run)
    return run


def request_sync(connection: CalendarConnection) -> SyncRun | None:
    """"Sync now": a run that pushes what is pending and, for 2-way, pulls Google's changes.

    None when the connection cannot sync. The caller commits, then enqueues (write the record, then enqueue).
    """
    return new_run(connection, RunKind.SYNC) if connection.can_sync else None


def add_error(run: SyncRun, message: str) -> None:
    run.failed += 1
    if len(run.errors) < MAX_STORED_ERRORS:
        run.errors = [*run.errors, message]


@contextmanager
def tracked(run: SyncRun, connection: CalendarConnection) -> Iterator[SyncRun]:
    """Run the body as `run`; commit progress; turn Google failures into the connection's state."""
    run.status, run.started_at = RunStatus.RUNNING, run.started_at or utcnow()  # a later slice keeps the start
    db.session.commit()
    try:
        yield run
    except RunContinues:
        db.session.commit()
        raise
    except AuthRevoked as exc:
        db.session.rollback()
        connection.status = ConnectionStatus.RECONNECT
        connection.last_error = str(exc)
        _finish(run, RunStatus.FAILED, str(exc))
    except UsageLimited:
        db.session.rollback()  # the items stay queued; nothing is marked failed
        _finish(run, RunStatus.FAILED, pause_writes(connection))
    except GoogleError as exc:
        db.session.rollback()
        connection.last_error = f"Google answered: {exc}" if exc.status else str(exc)
        _finish(run, RunStatus.FAILED, connection.last_error)
    except Exception:
        db.session.rollback()
        current_app.logger.exception("sync run %s crashed", run.id)
        connection.last_error = CRASHED[run.kind in ASKED_FOR_AGAIN]
        _finish(run, RunStatus.FAILED, connection.last_error)
        raise
    else:
        if run.failed:
            connection.last_error = f"{run.failed} item(s) could not be synced: {run.errors[-1] if run.errors else ''}"
        else:
            connection.last_error = None
        connection.last_synced_at = utcnow()
        _finish(run, RunStatus.SUCCEEDED, run.message or "Synchronization complete.")


def _finish(run: SyncRun, status: RunStatus, message: str) -> None:
    run.status, run.finished_at, run.message = status, utcnow(), message[:500]
    db.session.commit()


def end_unstarted(run: SyncRun, status: RunStatus, message: str) -> None:
    """A run no job will start (no Redis to queue it on, or nothing it may do): it ends now, in plain words.

    Does not commit: the caller (a view, or a job) owns the transaction.
    """
    run.status, run.finished_at, run.message = status, utcnow(), message[:500]


def cancel_connection_runs(connection_id: int, message: str) -> None:
    """The connection is going away: its unfinished runs end with it. Does not commit."""
    db.session.execute(sa.update(SyncRun).where(
        SyncRun.connection_id == connection_id, SyncRun.status.in_((RunStatus.QUEUED, RunStatus.RUNNING)))
        .values(status=RunStatus.CANCELLED, finished_at=utcnow(), message=message))


def bulk_run_of(connection_id: int) -> SyncRun | None:
    """The connection's unfinished bulk run, if any: Sync now, another push or a move would only wait behind
    it (for hours), so the card offers none of them and their requests are turned down meanwhile."""
    return db.session.scalar(sa.select(SyncRun).where(
        SyncRun.connection_id == connection_id, SyncRun.status.in_((RunStatus.QUEUED, RunStatus.RUNNING)),
        SyncRun.kind.in_([kind for kind in RunKind if kind.is_bulk])).limit(1))


def running_runs(connection_id: int | None = None) -> Sequence[SyncRun]:
    query = sa.select(SyncRun).where(SyncRun.status == RunStatus.RUNNING, SyncRun.connection_id.is_not(None))
    if connection_id is not None:
        query = query.where(SyncRun.connection_id == connection_id)
    return db.session.scalars(query.order_by(SyncRun.id)).all()


def stale_queued_runs(older_than: timedelta) -> Sequence[SyncRun]:
    """Runs still waiting long after they were queued: their job may have been lost with a worker or Redis."""
    return db.session.scalars(sa.select(SyncRun).where(
        SyncRun.status == RunStatus.QUEUED, SyncRun.connection_id.is_not(None),
        SyncRun.queued_at < utcnow() - older_than).order_by(SyncRun.id)).all()


def prune_finished_runs(older_than: timedelta, batch: int = 10_000) -> int:
    """Forget runs that ended more than `older_than` ago, at most `batch` at a time; returns how many.

    At fleet scale the safety net's polls alone add tens of thousands of runs a day; pages show only the
    latest few, and the logs keep what support needs. Does not commit.
    """
    oldest = sa.select(SyncRun.id).where(SyncRun.finished_at < utcnow() - older_than).limit(batch)
    return db.session.execute(sa.delete(SyncRun).where(SyncRun.id.in_(oldest.scalar_subquery()))
                              .execution_options(synchronize_session=False)).rowcount


def interrupt(run: SyncRun) -> bool:
    """A run whose worker died ends "interrupted". Returns False when its job ended it meanwhile.

    Conditional on the row still saying "running", so a job that finished a moment ago keeps its true
    ending. Does not commit: the caller commits, then enqueues the resumed work.
    """
    changed = db.session.execute(sa.update(SyncRun).where(SyncRun.id == run.id, SyncRun.status == RunStatus.RUNNING)
                                 .values(status=RunStatus.INTERRUPTED, finished_at=utcnow(),
                                         message=INTERRUPTED_MESSAGE)).rowcount
    db.session.refresh(run)
    if changed:
        current_app.logger.warning("sync run %s (%s, connection %s) interrupted: its worker is gone",
                                   run.id, run.kind, run.connection_id)
    return bool(changed)
