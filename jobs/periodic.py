"""Periodic work as cheap sweeps that fan out: SQL in batches, no Google call, one small job per connection.

`sweep_connections` runs every SWEEP_SECONDS (from `rq cron`, see `jobs/cron_config.py`). It plans the
safety-net polls and the watch-channel renewals that fall in the next SWEEP_SECONDS (`app.sync.polling`:
rare polls while a channel is trusted, frequent ones while it is not) and enqueues each on the periodic
queue at its own jittered time, so the Google calls of 10,000 connections spread evenly over the hours,
and a slow or failing connection delays nobody else. It also schedules a push for connections whose
outbox still holds changes that are due (a push that failed, or one lost with Redis), and forgets runs
that ended more than RUN_HISTORY_DAYS ago.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.google import AuthRevoked, client_for
from app.google.client import CalendarClient
from app.models import CalendarConnection, PendingPush, RunKind, SyncRun, utcnow
from app.queues import PERIODIC, get_queue, get_redis
from app.sync import pull
from app.sync.polling import Due, after_poll, needs_channel, plan
from app.sync.runs import prune_finished_runs
from app.sync.scheduling import connection_lock
from app.sync.watch import watch_or_poll

from .runtime import app_context
from .sync import JOB_OPTIONS, retry_later, run_for_connection, schedule_push

SWEEP_SECONDS = 300


def sweep_connections(now: datetime | None = None) -> int:
    """Cron: enqueue the polls and renewals due in the next SWEEP_SECONDS; returns how many jobs it enqueued.

    `now` is for the fleet bench, which drives a simulated day through this same function.
    """
    with app_context():
        now = now or utcnow()
        enqueued = 0
        for batch in plan(now, timedelta(seconds=SWEEP_SECONDS)):
            enqueued += _enqueue_at(batch.polls, poll_connection) + _enqueue_at(batch.renewals, renew_channel)
        waiting = db.session.scalars(sa.select(CalendarConnection.id).where(
            CalendarConnection.syncable(), CalendarConnection.may_write(),  # a paused one resumes by itself
            sa.exists().where(PendingPush.connection_id == CalendarConnection.id, PendingPush.due(now)))).all()
        enqueued += sum(map(schedule_push, waiting))
        prune_finished_runs(timedelta(days=current_app.config["RUN_HISTORY_DAYS"]))
        db.session.commit()
        return enqueued


def _enqueue_at(batch: list[Due], job: Callable[[int], None]) -> int:
    """One Redis round trip per batch (no MULTI: each job is whole by itself): 10,000 jobs cost seconds."""
    queue = get_queue(PERIODIC)
    with get_redis().pipeline(transaction=False) as pipe:
        for due in batch:
            queue.enqueue_at(due.at.replace(tzinfo=UTC), job, due.connection_id, pipeline=pipe, **JOB_OPTIONS)
        pipe.execute()
    return len(batch)


def poll_connection(connection_id: int) -> None:
    """The safety-net poll of one 2-way connection: Google's changes, then when to poll it next."""
    with app_context():
        run_for_connection(connection_id, RunKind.PULL, poll_connection, _poll)


def _poll(client: CalendarClient, connection: CalendarConnection, run: SyncRun) -> None:
    previous_sync = connection.last_synced_at
    pull.pull_changes(client, connection, run)
    after_poll(connection, run, previous_sync)


def renew_channel(connection_id: int) -> None:
    """Open a fresh watch channel for one connection (channels cannot be extended), or retry a refused one.

    Under the connection's lock, so two sweeps or a sync opening a channel at the same moment never leave
    two live channels for one connection.
    """
    with app_context():
        connection = db.session.get(CalendarConnection, connection_id)
        if connection is None or not connection.can_sync or not connection.pulls:
            return
        with connection_lock(connection_id) as locked:
            if not locked:
                return retry_later(renew_channel, connection_id)
            db.session.refresh(connection)
            if not needs_channel(connection, utcnow()):
                return  # a sync opened a fresh channel meanwhile
            try:  # refused: the card says why, and the sweep asks again after WATCH_RETRY_HOURS
                watch_or_poll(client_for(connection), connection)
            except AuthRevoked as exc:  # the next sync moves the connection to "reconnect"
                current_app.logger.info("renewing channel of connection %s: %s", connection.id, exc)
            db.session.commit()
