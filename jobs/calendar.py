"""Jobs that move a connection's Google copies: to another calendar, or out of Google before a Delete.

Like every sync job they take the connection's lock (a busy connection runs the job again shortly)
and record progress on their SyncRun.
"""
from __future__ import annotations

from .runtime import app_context


def change_calendar(run_id: int, calendar_id: str, summary: str) -> None:
    """Move the portal's events to another calendar (no duplicates), then (2-way) watch and pull it."""
    with app_context():
        from app.google import client_for
        from app.sync import pull, relocate
        from app.sync.runs import new_run, tracked
        from app.sync.scheduling import connection_lock, retry_later
        from app.sync.watch import start_watch

        run, connection = _queued_run(run_id)
        if run is None:
            return
        with connection_lock(connection.id) as locked:
            if not locked:
                return retry_later("jobs.calendar.change_calendar", run_id, calendar_id, summary)
            with tracked(run, connection):
                client = client_for(connection)
                relocate.move_to_calendar(client, connection, run, calendar_id, summary)
                run.message = (f"Moved to {summary}: {run.deleted} removed from the old calendar, "
                               f"{run.created + run.updated} in the new one"
                               + (f", {run.failed} failed." if run.failed else "."))
            if run.status == "succeeded" and connection.pulls:
                with tracked(new_run(connection, "pull"), connection) as pull_run:
                    start_watch(client, connection)
                    pull.pull_changes(client, connection, pull_run)


def remove_events_and_delete(run_id: int) -> None:
    """Delete with "remove the events": the copies leave Google in batches, then the connection goes."""
    with app_context():
        from app.extensions import db
        from app.google import client_for
        from app.integrations.service import disconnect
        from app.sync import relocate
        from app.sync.runs import tracked
        from app.sync.scheduling import connection_lock, retry_later

        run, connection = _queued_run(run_id)
        if run is None:
            return
        with connection_lock(connection.id) as locked:
            if not locked:
                return retry_later("jobs.calendar.remove_events_and_delete", run_id)
            with tracked(run, connection):
                relocate.remove_pushed_events(client_for(connection), connection, run)
                run.message = (f"{run.deleted} event(s) removed from Google; the connection is deleted."
                               + (f" {run.failed} could not be removed." if run.failed else ""))
            if run.status == "succeeded":
                disconnect(connection, connection.user)
                db.session.commit()


def _queued_run(run_id: int):
    """(run, connection) when the run still waits for this job, else (None, None)."""
    from app.extensions import db
    from app.models import CalendarConnection, SyncRun

    run = db.session.get(SyncRun, run_id)
    connection = run and run.connection_id and db.session.get(CalendarConnection, run.connection_id)
    if not connection or run.status != "queued":
        return None, None
    return run, connection
