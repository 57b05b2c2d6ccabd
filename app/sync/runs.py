"""A SyncRun's life, set in one place: queued → running → succeeded | failed | cancelled | interrupted.

Every status a page can show, and every outcome (a code with parameters, `app.sync.notes`), is written by
a function of this module. `start` and `finish` commit the run's own progress inside a job, which owns its
transaction; the others leave the commit to their caller (a view, or a job).
"""
from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from datetime import timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import CalendarConnection, RunKind, RunStatus, SyncRun, utcnow
from .notes import Code, Note

log = logging.getLogger(__name__)
UNFINISHED = (RunStatus.QUEUED, RunStatus.RUNNING)


class Superseded(Exception):  # noqa: N818  not an error of ours: another job holds the connection now
    """This job's hold on its connection went to another job: it stops without writing (see `jobs.locks`)."""


def new_run(connection: CalendarConnection, kind: RunKind, **fields) -> SyncRun:
    """A queued run of `kind` (with its parameters: `items_since`, `calendar_id`, ...). Does not commit."""
    run = SyncRun(company_id=connection.company_id, user_id=connection.user_id, connection_id=connection.id,
                  kind=kind, status=RunStatus.QUEUED, **fields)
    db.session.add(run)
    return run


def start(run: SyncRun) -> bool:
    """The run's job begins (or a bulk run's next slice: it keeps its first start). False when the run ended
    meanwhile (its connection was deleted, a removal stopped it): then there is nothing to do."""
    started = db.session.execute(sa.update(SyncRun).where(SyncRun.id == run.id, SyncRun.status.in_(UNFINISHED))
                                 .values(status=RunStatus.RUNNING, started_at=sa.func.coalesce(
                                     SyncRun.started_at, utcnow()))).rowcount
    db.session.commit()
    db.session.refresh(run)
    return bool(started)


def finish(run: SyncRun, status: RunStatus, note: Note, detail: str | None = None) -> bool:
    """The run's true ending, unless it already has one (cancelled while its job ran: that stands, and False
    says so). Commits."""
    ended = db.session.execute(sa.update(SyncRun).where(SyncRun.id == run.id, SyncRun.status == RunStatus.RUNNING)
                               .values(status=status, finished_at=utcnow(), outcome=note.code.value,
                                       outcome_params=dict(note.params), detail=detail)).rowcount
    db.session.commit()
    db.session.refresh(run)
    return bool(ended)


def end_unstarted(run: SyncRun, status: RunStatus, note: Note, detail: str | None = None) -> None:
    """A run ends now: no job will start it (no Redis to queue it on, nothing it may do) or its job is done.

    Does not commit: the caller (a view, or a job) owns the transaction.
    """
    run.status, run.finished_at = status, utcnow()
    run.outcome, run.outcome_params, run.detail = note.code.value, dict(note.params), detail


def cancel_connection_runs(connection_id: int, note: Note) -> None:
    """The connection is going away (or its bulk run gives way): its unfinished runs end. Does not commit."""
    db.session.execute(sa.update(SyncRun).where(SyncRun.connection_id == connection_id,
                                                SyncRun.status.in_(UNFINISHED))
                       .values(status=RunStatus.CANCELLED, finished_at=utcnow(), outcome=note.code.value,
                               outcome_params=dict(note.params)))


def end_orphans() -> int:
    """Runs left unfinished by a connection that is gone (a job that started one as it was deleted): they end
    "cancelled". Returns how many. Does not commit."""
    return db.session.execute(sa.update(SyncRun).where(SyncRun.connection_id.is_(None),
                                                       SyncRun.status.in_(UNFINISHED))
                              .values(status=RunStatus.CANCELLED, finished_at=utcnow(),
                                      outcome=Code.CONNECTION_DELETED.value, outcome_params={})).rowcount


def unfinished_run_of(connection_id: int, kinds: Collection[RunKind]) -> SyncRun | None:
    """The connection's oldest queued or running run of one of `kinds`, if any."""
    return db.session.scalar(sa.select(SyncRun).where(
        SyncRun.connection_id == connection_id, SyncRun.status.in_(UNFINISHED), SyncRun.kind.in_(list(kinds)))
        .order_by(SyncRun.id).limit(1))


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
                                         outcome=Code.INTERRUPTED.value, outcome_params={})).rowcount
    db.session.refresh(run)
    if changed:
        log.warning("sync run %s (%s, connection %s) interrupted: its worker is gone", run.id, run.kind,
                    run.connection_id)
    return bool(changed)
