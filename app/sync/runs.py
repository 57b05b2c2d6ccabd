"""A SyncRun's life, set in one place: queued → running → succeeded | failed."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app

from ..extensions import db
from ..google import AuthRevoked, GoogleError, UsageLimited
from ..models import CalendarConnection, ConnectionStatus, SyncRun, utcnow

MAX_STORED_ERRORS = 50


def new_run(connection: CalendarConnection, kind: str) -> SyncRun:
    run = SyncRun(company_id=connection.company_id, user_id=connection.user_id, connection_id=connection.id,
                  kind=kind, status="queued")
    db.session.add(run)
    return run


def add_error(run: SyncRun, message: str) -> None:
    run.failed += 1
    if len(run.errors) < MAX_STORED_ERRORS:
        run.errors = [*run.errors, message]


@contextmanager
def tracked(run: SyncRun, connection: CalendarConnection) -> Iterator[SyncRun]:
    """Run the body as `run`; commit progress; turn Google failures into the connection's state."""
    run.status, run.started_at = "running", utcnow()
    db.session.commit()
    try:
        yield run
    except AuthRevoked as exc:
        db.session.rollback()
        connection.status = ConnectionStatus.RECONNECT
        connection.last_error = str(exc)
        _finish(run, "failed", str(exc))
    except UsageLimited:
        db.session.rollback()  # the items stay queued; nothing is marked failed
        from .limits import pause_writes  # limits → scheduling → runs: imported when needed

        _finish(run, "failed", pause_writes(connection, run))
    except GoogleError as exc:
        db.session.rollback()
        connection.last_error = f"Google answered: {exc}" if exc.status else str(exc)
        _finish(run, "failed", connection.last_error)
    except Exception as exc:
        db.session.rollback()
        current_app.logger.exception("sync run %s crashed", run.id)
        connection.last_error = "An unexpected error stopped the sync; it will be retried."
        _finish(run, "failed", f"{type(exc).__name__}: {exc}")
        raise
    else:
        if run.failed:
            connection.last_error = f"{run.failed} item(s) could not be synced: {run.errors[-1] if run.errors else ''}"
        else:
            connection.last_error = None
        connection.last_synced_at = utcnow()
        _finish(run, "succeeded", run.message or "Synchronization complete.")


def _finish(run: SyncRun, status: str, message: str) -> None:
    run.status, run.finished_at, run.message = status, utcnow(), message[:500]
    db.session.commit()
