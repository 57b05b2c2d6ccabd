"""The engine's front door: asking for a run, and performing one.

`request_run` is the one path every person's request takes (the user's card, an admin's Company Settings,
a reconnect), so every caller obeys the same rules. `perform` runs a run's body (`app.sync.kinds`) and
turns whatever happens into a true ending: the run's status and outcome (a code), the connection's state
and problem, and a `Next` value that tells the job boundary what follows: the next slice of a bulk run, the
same work again later (Google's use limit, the day's creation ceiling), or nothing.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..extensions import db
from ..google import GoogleDown, GoogleError
from ..models import CalendarConnection, ConnectionStatus, RunKind, RunStatus, SyncRun, utcnow
from .bulk import Cursor, Stopped
from .connections import choose_calendar, clear_problem, connection_gone, disconnect, record_problem
from .context import Sync
from .failures import failures_since
from .kinds import BULK_KINDS, RUN_KINDS
from .limits import next_instalment_at, pause_writes
from .notes import Code, Note, detail_of, google_problem
from .runs import Superseded, cancel_connection_runs, finish, new_run, start, unfinished_run_of

log = logging.getLogger(__name__)


class Refused(Exception):
    """A request the engine turns down; `note` says why (a code: words are rendered where shown)."""

    def __init__(self, note: Note) -> None:
        super().__init__(note.code.value)
        self.note = note


@dataclass(frozen=True)
class Next:
    """What follows a run's job: its next slice (the run stays "running"), its work again later, a run that
    follows it at once under the same lock (2-way: the pull after a push), or nothing."""

    slice_at: Cursor | None = None
    after_seconds: float = 0
    again_at: datetime | None = None
    again_as: RunKind | None = None  # the run asked for at `again_at`, of the run's parameters
    follow_up: SyncRun | None = None


def bulk_run_of(connection_id: int) -> SyncRun | None:
    """The connection's unfinished bulk run, if any: while it goes on, the card offers no other action."""
    return unfinished_run_of(connection_id, BULK_KINDS)


def request_run(connection: CalendarConnection, kind: RunKind, **fields) -> SyncRun:
    """A person's request for a run of `kind`, queued (the caller commits, then enqueues).

    Refused while the connection needs its user, and while a bulk run goes on: another push, a move or
    "Sync now" would only wait behind it for hours. A removal stops such a run instead of waiting for it.
    """
    if not connection.can_sync:
        raise Refused(Note(Code.NEEDS_ATTENTION))
    if RUN_KINDS[kind].stops_bulk:
        cancel_connection_runs(connection.id, Note(Code.BEING_DELETED))
    else:
        refuse_while_bulk(connection)
    return new_run(connection, kind, **fields)


def request_push(connection: CalendarConnection, calendar_id: str, summary: str, items_since: date | None) -> SyncRun:
    """Push Existing Data into a calendar: the first choice of one, or the same one again. Into another calendar
    than the one an active connection syncs with, it is a move (as Change calendar does), so no copy stays
    behind in the old calendar, cut off from sync. Does not commit."""
    refuse_while_bulk(connection)
    if connection.status is ConnectionStatus.ACTIVE and connection.calendar_id not in (None, calendar_id):
        return request_run(connection, RunKind.CHANGE_CALENDAR, calendar_id=calendar_id, calendar_summary=summary,
                           items_since=items_since)
    choose_calendar(connection, calendar_id, summary)
    return request_run(connection, RunKind.PUSH_EXISTING, items_since=items_since)


def refuse_while_bulk(connection: CalendarConnection) -> None:
    """Raises `Refused` while a bulk run of the connection goes on (checked before a calendar is chosen)."""
    if (bulk := bulk_run_of(connection.id)) is not None:
        raise Refused(Note(Code.BULK_UNDER_WAY, {"kind": bulk.kind.value}))


def waits_behind(kind: RunKind, bulk_runs: Sequence[SyncRun]) -> bool:
    """Whether work of `kind` waits for the connection's bulk runs under way. Pulls and polls do (a bulk run's
    end pulls). The user's own edits go on between the slices of their Push Existing Data (both are idempotent
    upserts under the same event ids) and wait for a move or a removal, which would take them out again."""
    if kind is RunKind.PUSH:
        return any(RUN_KINDS[run.kind].edits_wait for run in bulk_runs)
    return bool(bulk_runs)


def perform(sync: Sync, at: Cursor | None = None) -> Next:
    """Run `sync.run`'s body (from `at`, for a bulk run's later slice) and end it truthfully.

    Google's failures end the run "failed" with a code and set the connection's state. Anything else is a
    bug: logged, the run ended "failed", and the exception raised again so the job shows as failed. But a
    connection deleted while its run goes on (Disconnect, Delete) is no failure, wherever the run meets it
    (in its body, or writing how it ended): the deletion cancelled the run, and the job ends quietly.
    """
    run_id, connection_id = sync.run.id, sync.run.connection_id
    try:
        return _perform(sync, at)
    except Superseded:
        raise  # another job holds the connection now: not a word more from this one
    except Exception as exc:
        db.session.rollback()
        if connection_id is None or connection_gone(connection_id):
            log.info("run %s: its connection %s was deleted while it ran", run_id, connection_id)
            return Next()  # `end_orphans` ends any run that slipped past the deletion's cancelling
        log.exception("sync run %s crashed", run_id)
        note = Note(Code.UNEXPECTED, {"by_itself": RUN_KINDS[sync.run.kind].by_itself})
        record_problem(sync.connection, note, detail_of(exc))
        finish(sync.run, RunStatus.FAILED, note, detail_of(exc))
        raise


def _perform(sync: Sync, at: Cursor | None) -> Next:
    run, connection = sync.run, sync.connection
    paused_until = connection.writes_paused_until
    if not start(run):
        return Next()  # ended meanwhile: cancelled with its connection, or stopped by a removal
    log.info("%s run %s started for connection %s", run.kind, run.id, connection.id)
    try:
        stopped = RUN_KINDS[run.kind].body(sync, at)
        if stopped is not None and not stopped.ceiling:
            db.session.commit()  # the run goes on in its next slice
            return Next(slice_at=stopped.cursor, after_seconds=stopped.wait_seconds)
        return _succeeded(sync, stopped)
    except GoogleError as exc:
        db.session.rollback()
        _google_failed(sync, exc)  # a connection deleted meanwhile fails this write: `perform` knows why
        if isinstance(exc, GoogleDown):  # the same work again once Google may be back, asked by nobody
            return Next(again_at=utcnow() + timedelta(seconds=exc.wait_seconds), again_as=run.kind)
    if connection.writes_paused_until != paused_until:  # Google's use limit began: the work goes on then,
        spec = RUN_KINDS[run.kind]  # a bulk run as it was, anything else as the outbox's push
        return Next(again_at=connection.writes_paused_until, again_as=run.kind if spec.bulk else RunKind.PUSH)
    return Next()


def _ending(run: SyncRun, instalment_at: datetime | None) -> Note:
    """How a run that did its work ended: complete, complete for today, or with items that did not make it
    (how many wait for Google and are sent again by themselves, how many Google refused)."""
    if instalment_at is not None:
        return Note(Code.INSTALMENTS, {"left": max(run.total - run.done, 0), "at": instalment_at.isoformat()})
    if not run.failed:
        return Note(Code.COMPLETE)
    waiting, refused = failures_since(run.connection_id, run.started_at)
    return Note(Code.PARTIAL, {"reached": run.created + run.updated + run.deleted, "waiting": waiting,
                               "refused": refused, "other": max(run.failed - waiting - refused, 0)})


def _google_failed(sync: Sync, error: GoogleError) -> None:
    log.info("%s run %s failed at Google: %s", sync.run.kind, sync.run.id, detail_of(error))
    note = google_problem(error)
    if note.code is Code.USE_LIMIT:  # not a problem of the connection: the card shows the pause
        until = pause_writes(sync.connection, sync.settings.use_limit_pause)
        note = Note(Code.USE_LIMIT, {"until": until.isoformat()})
    else:
        record_problem(sync.connection, note, detail_of(error))
    finish(sync.run, RunStatus.FAILED, note, detail_of(error))


def _succeeded(sync: Sync, stopped: Stopped | None) -> Next:
    """The run's work is done, or done for today (the creation ceiling: the rest in daily instalments); what
    its kind does then follows."""
    run, connection = sync.run, sync.connection
    connection.last_synced_at = utcnow()
    clear_problem(connection)
    instalment_at = next_instalment_at() if stopped is not None else None
    if not finish(run, RunStatus.SUCCEEDED, _ending(run, instalment_at)):
        return Next()  # cancelled meanwhile (a removal, a deletion): nothing of its kind follows
    log.info("%s run %s ended %s (%s)", run.kind, run.id, run.status, run.outcome)
    spec = RUN_KINDS[run.kind]
    follow_up = None
    if spec.deletes_connection:
        disconnect(connection, connection.user)
        db.session.commit()
    elif spec.then is not None and connection.pulls:
        follow_up = new_run(connection, spec.then)
        db.session.commit()
    # The next instalment pushes what is left into the connection's calendar, whatever stopped (a push, a move).
    return Next(again_at=instalment_at, again_as=RunKind.PUSH_EXISTING if instalment_at else None,
                follow_up=follow_up)
