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
        from app.sync.limits import continue_in_instalments
        from app.sync.runs import new_run, tracked
        from app.sync.scheduling import connection_lock, retry_later
        from app.sync.watch import watch_or_poll

        run = db.session.get(SyncRun, run_id)
        connection = run and run.connection_id and _load(run.connection_id)
        if not connection or run.status != "queued":
            return
        with connection_lock(connection.id) as locked:
            if not locked:
                return retry_later("jobs.sync.push_existing_data", run_id)
            with tracked(run, connection):
                client = client_for(connection)
                left = push.push_existing_data(client, connection, run)
                run.message = continue_in_instalments(connection, run, left) if left else (
                    f"Synchronization complete: {run.created} created, {run.updated} updated"
                    + (f", {run.failed} failed." if run.failed else "."))
            if run.status == "succeeded" and connection.pulls:
                with tracked(new_run(connection, "pull"), connection) as pull_run:
                    if not connection.channel_id:
                        watch_or_poll(client, connection)
                    pull.pull_changes(client, connection, pull_run)


def resume_push_existing(connection_id: int, items_since: str | None) -> None:
    """The next instalment of Push Existing Data, or its continuation once Google's use limit has passed."""
    with app_context():
        from datetime import date

        from app.extensions import db
        from app.sync.runs import new_run
        from app.sync.scheduling import enqueue_run

        connection = _load(connection_id)
        if connection is None or not connection.can_sync:
            return
        run = new_run(connection, "push_existing")
        run.items_since = date.fromisoformat(items_since) if items_since else None
        db.session.commit()
        enqueue_run(run, "jobs.sync.push_existing_data")


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
    from app.sync.watch import watch_or_poll

    connection = _load(connection_id)
    if connection is None or not connection.can_sync:
        return  # deleted, or waiting for the user to reconnect: nothing to do, no retry loop
    if kind == "push" and connection.writes_paused:
        return  # Google's use limit: the job scheduled for the end of the pause drains the outbox
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
                watch_or_poll(client, connection)
            if kind in ("push", "sync") and not connection.writes_paused:
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
            sa.exists().where(PendingPush.connection_id == CalendarConnection.id, PendingPush.due(utcnow())),
            CalendarConnection.may_write())).all()
        return sum(map(schedule_pull, pulls)) + sum(map(schedule_push, pushes))


def renew_watch_channels() -> int:
    """Cron: channels cannot be extended, so open a fresh one before the old one expires."""
    with app_context() as current_app:
        from app.extensions import db
        from app.google import AuthRevoked, client_for
        from app.models import CalendarConnection, ConnectionKind, utcnow
        from app.sync.watch import needs_renewal, watch_or_poll

        now = utcnow()
        renewed = 0
        for connection in db.session.scalars(sa.select(CalendarConnection).where(
                CalendarConnection.kind == ConnectionKind.TWO_WAY, CalendarConnection.syncable())):
            if needs_renewal(connection, now):
                try:
                    renewed += watch_or_poll(client_for(connection), connection)
                except AuthRevoked as exc:  # the next sync moves it to "reconnect"
                    current_app.logger.info("renewing channel of connection %s: %s", connection.id, exc)
                db.session.commit()
        return renewed
