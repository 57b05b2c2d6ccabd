"""Sync jobs: load ids, take the connection's lock, call the sync engine, record progress.

A job that finds its connection busy (another worker holds the lock) does not fail: it asks to be
run again shortly.
"""
from __future__ import annotations

import sqlalchemy as sa

from .runtime import app_context


def push_existing_data(run_id: int) -> None:
    """Push Existing Data: everything the user takes part in, then (2-way) start watching and pulling."""
    with app_context():
        from app.extensions import db
        from app.google import client_for
        from app.models import SyncRun
        from app.sync import pull, push
        from app.sync.runs import new_run, tracked
        from app.sync.scheduling import connection_lock, retry_later
        from app.sync.watch import start_watch

        run = db.session.get(SyncRun, run_id)
        connection = run and run.connection_id and _load(run.connection_id)
        if not connection or run.status != "queued":
            return
        with connection_lock(connection.id) as locked:
            if not locked:
                return retry_later("jobs.sync.push_existing_data", run_id)
            with tracked(run, connection):
                client = client_for(connection)
                push.push_existing_data(client, connection, run)
                run.message = (f"Synchronization complete: {run.created} created, {run.updated} updated"
                               + (f", {run.failed} failed." if run.failed else "."))
            if run.status == "succeeded" and connection.pulls:
                with tracked(new_run(connection, "pull"), connection) as pull_run:
                    if not connection.channel_id:
                        start_watch(client, connection)
                    pull.pull_changes(client, connection, pull_run)


def push_changes(connection_id: int) -> None:
    """Drain the connection's outbox (scheduled, coalesced, after each committed item change)."""
    with app_context():
        from app.sync.scheduling import clear_push_schedule

        clear_push_schedule(connection_id)
        _run_for_connection(connection_id, "push")


def pull_changes(connection_id: int) -> None:
    """Apply Google's changes (webhook-triggered or the periodic safety net)."""
    with app_context():
        from app.sync.scheduling import clear_pull_schedule

        clear_pull_schedule(connection_id)
        _run_for_connection(connection_id, "pull")


def sync_now(run_id: int) -> None:
    """The user's "Sync now": push what is pending, then pull (2-way)."""
    with app_context():
        from app.extensions import db
        from app.models import SyncRun

        run = db.session.get(SyncRun, run_id)
        if run and run.status == "queued" and run.connection_id:
            _run_for_connection(run.connection_id, "sync", run)


def _load(connection_id: int):
    from app.extensions import db
    from app.models import CalendarConnection

    return db.session.get(CalendarConnection, connection_id)


def _run_for_connection(connection_id: int, kind: str, run=None) -> None:
    from app.extensions import db
    from app.google import client_for
    from app.models import PendingPush, utcnow
    from app.sync import pull, push
    from app.sync.runs import new_run, tracked
    from app.sync.scheduling import connection_lock, retry_later
    from app.sync.watch import start_watch

    connection = _load(connection_id)
    if connection is None or not connection.can_sync:
        return  # deleted, or waiting for the user to reconnect: nothing to do, no retry loop
    if kind == "push" and not db.session.scalar(sa.select(PendingPush.id).where(
            PendingPush.connection_id == connection_id, PendingPush.due(utcnow())).limit(1)):
        return  # another job already drained it, or what is left waits for its backoff
    with connection_lock(connection_id) as locked:
        if not locked:
            if run:
                return retry_later("jobs.sync.sync_now", run.id)
            return retry_later(f"jobs.sync.{kind}_changes", connection_id)
        run = run or new_run(connection, kind)
        with tracked(run, connection):
            client = client_for(connection)
            if kind == "sync" and connection.pulls and not connection.channel_id:
                start_watch(client, connection)
            if kind in ("push", "sync"):
                push.push_pending(client, connection, run)
            if kind in ("pull", "sync"):
                pull.pull_changes(client, connection, run)


def pull_all_connections() -> int:
    """Cron safety net: Google's notifications are 'not 100% reliable', and a failed push leaves its outbox."""
    with app_context():
        from app.extensions import db
        from app.models import CalendarConnection, ConnectionKind, PendingPush, utcnow
        from app.sync.scheduling import schedule_pull, schedule_push

        active = CalendarConnection.syncable()
        pulls = db.session.scalars(sa.select(CalendarConnection.id).where(
            active, CalendarConnection.kind == ConnectionKind.TWO_WAY)).all()
        pushes = db.session.scalars(sa.select(CalendarConnection.id).where(active).where(
            sa.exists().where(PendingPush.connection_id == CalendarConnection.id, PendingPush.due(utcnow())))).all()
        return sum(map(schedule_pull, pulls)) + sum(map(schedule_push, pushes))


def renew_watch_channels() -> int:
    """Cron: channels cannot be extended, so open a fresh one before the old one expires."""
    with app_context():
        from app.extensions import db
        from app.google import GoogleError, client_for
        from app.models import CalendarConnection, ConnectionKind, utcnow
        from app.sync.watch import needs_renewal, start_watch

        now = utcnow()
        renewed = 0
        for connection in db.session.scalars(sa.select(CalendarConnection).where(
                CalendarConnection.kind == ConnectionKind.TWO_WAY, CalendarConnection.syncable())):
            if needs_renewal(connection, now):
                try:
                    start_watch(client_for(connection), connection)
                    renewed += 1
                except GoogleError as exc:
                    connection.last_error = f"Could not renew Google notifications: {exc}"
                db.session.commit()
        return renewed
