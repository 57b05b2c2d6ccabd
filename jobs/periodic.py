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

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask, current_app

from app.extensions import db
from app.google import AuthRevoked, client_for
from app.models import CalendarConnection, PendingPush, RunKind, utcnow
from app.queues import PERIODIC
from app.sync.polling import Plan, needs_channel, plan
from app.sync.runs import prune_finished_runs
from app.sync.settings import SyncSettings
from app.sync.watch import watch_or_poll

from .locks import connection_lock
from .queueing import enqueue_many_at, retry_later
from .sync import run_for_connection, schedule_push

log = logging.getLogger(__name__)
SWEEP_SECONDS = 300


def sweep_connections(now: datetime | None = None) -> int:
    """Cron: enqueue the polls and renewals due in the next SWEEP_SECONDS; returns how many jobs it enqueued.

    `now` is for the fleet bench, which drives a simulated day through this same function.
    """
    now = now or utcnow()
    settings = SyncSettings.from_config(current_app.config)
    enqueued = _enqueue_while_planning(plan(now, timedelta(seconds=SWEEP_SECONDS), settings))
    waiting = db.session.scalars(sa.select(CalendarConnection.id).where(
        CalendarConnection.syncable(), CalendarConnection.may_write(),  # a paused one resumes by itself
        sa.exists().where(PendingPush.connection_id == CalendarConnection.id, PendingPush.due(now)))).all()
    enqueued += sum(map(schedule_push, waiting))
    prune_finished_runs(timedelta(days=current_app.config["RUN_HISTORY_DAYS"]))
    db.session.commit()
    return enqueued


def _enqueue_while_planning(batches: Iterator[Plan]) -> int:
    """Each batch's jobs go to Redis from a second thread while the next batch is planned: the database writing
    a batch (a wait for us) and the enqueueing (our CPU) overlap instead of adding up when 100,000 connections
    are planned at once (the first sweep, a catch-up). A batch's jobs are enqueued after its commit, as before;
    an enqueue that fails stops the sweep at the next batch, whose planned times then wait for their next turn
    like the failed batch's."""
    app, enqueued, pending = current_app._get_current_object(), 0, None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sweep-enqueue") as pool:
        for batch in batches:
            if pending is not None:
                enqueued += pending.result()
            pending = pool.submit(_enqueue_batch, app, batch)
        if pending is not None:
            enqueued += pending.result()
    return enqueued


def _enqueue_batch(app: Flask, batch: Plan) -> int:
    """In an app context of the thread's own (Redis is the app's; no database session is shared)."""
    with app.app_context():
        return (enqueue_many_at(poll_connection, ((due.connection_id, due.at) for due in batch.polls), PERIODIC)
                + enqueue_many_at(renew_channel, ((due.connection_id, due.at) for due in batch.renewals), PERIODIC))


def poll_connection(connection_id: int) -> None:
    """The safety-net poll of one 2-way connection: Google's changes, then when to poll it next."""
    run_for_connection(connection_id, RunKind.POLL, poll_connection)


def renew_channel(connection_id: int) -> None:
    """Open a fresh watch channel for one connection (channels cannot be extended), or retry a refused one.

    Under the connection's lock, so two sweeps or a sync opening a channel at the same moment never leave
    two live channels for one connection.
    """
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
            watch_or_poll(client_for(connection), connection, SyncSettings.from_config(current_app.config))
        except AuthRevoked as exc:  # the next sync moves the connection to "reconnect"
            log.info("renewing channel of connection %s: %s", connection_id, exc)
        db.session.commit()  # deleted while Google answered (Disconnect, Delete)? the lock ends the job quietly
