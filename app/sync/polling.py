"""Push first, poll rarely: when each 2-way connection is polled and its watch channel renewed.

Google's notifications are "not 100 % reliable", so every 2-way connection is also polled. How often
depends on whether its channel is trusted (`CalendarConnection.channel_healthy`): a live channel that
never missed a change is polled every POLL_HEALTHY_HOURS, any other connection every
POLL_UNHEALTHY_MINUTES until a channel works again. A quiet calendar is not suspicious (nothing to
announce); a poll that finds changes no notification announced is: the channel is then no longer trusted
and its renewal is brought forward, and the fresh channel is trusted again.

Every time is jittered by ±20 %, so 10,000 connections' polls and renewals spread evenly over the hours
instead of landing together. Plain functions over connection columns (`next_poll_at`, `next_watch_at`):
the sweep in `jobs.periodic` plans in batches with no Google call, then enqueues one job per connection.
"""
from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import CalendarConnection, ConnectionKind, SyncRun, utcnow
from .settings import SyncSettings

log = logging.getLogger(__name__)

JITTER = 0.2
# Channels live 7 days and cannot be extended: a fresh one a day before the end. A day, because a channel is
# trusted only while it outlives the next rare poll (`healthy_now`): renewing later than the longest rare
# interval (POLL_HEALTHY_HOURS × 1.2) before the end would put every connection on frequent polls for hours a week.
RENEW_BEFORE = timedelta(hours=24)
# Connections read and updated per statement by the sweep: 100,000 connections are 20 batches, so 20 commits
# (a commit waits for the disk) and 20 Redis round trips; a batch's row locks last one UPDATE and its commit.
BATCH = 5000
# PostgreSQL takes a batch's new times as three arrays: one UPDATE for the whole batch, not one per connection
# (an executemany costs the server a statement and the client a round of parameters per row). Each array comes
# as one comma-separated text: the driver's own array quoting, element by element, took 5 times the CPU.
_STORE_BY_ARRAYS = sa.text(
    "UPDATE calendar_connection SET next_poll_at = planned.poll_at, next_watch_at = planned.watch_at"
    " FROM unnest(CAST(string_to_array(:ids, ',') AS integer[]), CAST(string_to_array(:polls, ',') AS timestamp[]),"
    " CAST(string_to_array(:watches, ',') AS timestamp[])) AS planned (id, poll_at, watch_at)"
    " WHERE calendar_connection.id = planned.id")
NOTIFIED_EVERY = timedelta(minutes=1)  # `last_notified_at` is kept this precise (not one write per notification)


@dataclass(frozen=True)
class Due:
    connection_id: int
    at: datetime


def poll_interval(healthy: bool, settings: SyncSettings) -> timedelta:
    return settings.poll_healthy if healthy else settings.poll_unhealthy


def jittered(interval: timedelta) -> timedelta:
    return interval * random.uniform(1 - JITTER, 1 + JITTER)


def healthy_now(now: datetime, settings: SyncSettings) -> sa.ColumnElement[bool]:
    """Trusted until the next rare poll: a channel expiring sooner gets the frequent polls."""
    return CalendarConnection.channel_healthy(now + settings.poll_healthy * (1 + JITTER))


def _pulling() -> sa.ColumnElement[bool]:
    return sa.and_(CalendarConnection.syncable(), CalendarConnection.kind == ConnectionKind.TWO_WAY)


@dataclass
class Plan:
    """One batch of the sweep: the connections whose poll, and whose channel renewal, fall in its window."""

    polls: list[Due]
    renewals: list[Due]


def plan(now: datetime, window: timedelta, settings: SyncSettings) -> Iterator[Plan]:
    """The polls and renewals due before now + window, a batch of connections at a time (keyset, by id):
    one SELECT and one UPDATE per batch for both, however many connections there are (100,000 in seconds).

    Each due time gets its provisional successor written before its job is enqueued, so the next sweep does
    not enqueue it again; the job sets the true one when it has run.
    """
    horizon = now + window
    healthy = healthy_now(now, settings)
    last_id = 0
    while True:
        rows = db.session.execute(sa.select(
            CalendarConnection.id, CalendarConnection.next_poll_at, CalendarConnection.next_watch_at, healthy,
            CalendarConnection.channel_expires_at).where(
            _pulling(), CalendarConnection.id > last_id,
            sa.or_(CalendarConnection.next_poll_at.is_(None), CalendarConnection.next_poll_at < horizon,
                   CalendarConnection.next_watch_at.is_(None), CalendarConnection.next_watch_at < horizon))
            .order_by(CalendarConnection.id).limit(BATCH)).all()
        if not rows:
            return
        last_id = rows[-1][0]
        batch, updates = Plan([], []), []
        for connection_id, poll_at, watch_at, trusted, expires_at in rows:
            interval = poll_interval(bool(trusted), settings)
            # Never planned, or overdue after an outage: a random point of the interval from now (as always
            # within the interval, and 10,000 overdue connections never at once).
            poll_at = _due(batch.polls, connection_id, poll_at if poll_at and poll_at >= now
                           else now + interval * random.random(), now, window, interval)
            watch_at = _due(batch.renewals, connection_id, watch_at or _first_renewal(now, expires_at, settings),
                            now, window, settings.watch_retry)
            updates.append((connection_id, poll_at, watch_at))
        _store(updates)
        db.session.commit()
        yield batch


def _store(planned: list[tuple[int, datetime, datetime]]) -> None:
    """Writes each connection's (id, next poll, next renewal) in one statement on PostgreSQL; elsewhere (SQLite,
    in-process: a statement per row costs no round trip) as one executemany of a plain UPDATE by id."""
    if db.session.get_bind().dialect.name == "postgresql":
        ids, polls, watches = zip(*planned, strict=True)  # naive UTC times, as every time the database holds
        db.session.execute(_STORE_BY_ARRAYS, {"ids": ",".join(map(str, ids)), "polls": ",".join(
            map(datetime.isoformat, polls)), "watches": ",".join(map(datetime.isoformat, watches))})
        return
    table = CalendarConnection.__table__
    db.session.execute(sa.update(table).where(table.c.id == sa.bindparam("planned_id")).values(
        next_poll_at=sa.bindparam("poll_at"), next_watch_at=sa.bindparam("watch_at")),
        [{"planned_id": i, "poll_at": poll_at, "watch_at": watch_at} for i, poll_at, watch_at in planned])


def _due(due: list[Due], connection_id: int, at: datetime, now: datetime, window: timedelta,
         every: timedelta) -> datetime:
    """The time to store: `at` itself unless it falls in this window; then it is added to `due` (spread over
    the window if overdue: no herd at the sweep's minute) and the provisional next one, `every` later, is kept."""
    if at >= now + window:
        return at
    if at < now:
        at = now + window * random.random()
    due.append(Due(connection_id, at))
    return at + jittered(every)


def _first_renewal(now: datetime, expires_at: datetime | None, settings: SyncSettings) -> datetime:
    """Never planned: from the channel's end, or a first try within WATCH_RETRY_HOURS."""
    return renewal_time(expires_at) if expires_at else now + settings.watch_retry * random.random()


def renewal_time(expires_at: datetime) -> datetime:
    """Within RENEW_BEFORE of the channel's end, at a random point of its first hour (renewals spread too)."""
    return expires_at - RENEW_BEFORE + timedelta(hours=random.random())


def needs_channel(connection: CalendarConnection, now: datetime) -> bool:
    """No channel, one caught missing a change, or one ending within RENEW_BEFORE: open a fresh one."""
    return (connection.channel_id is None or connection.channel_missed_at is not None
            or connection.channel_expires_at is None or connection.channel_expires_at - now < RENEW_BEFORE)


def channel_opened(connection: CalendarConnection, settings: SyncSettings) -> None:
    """A fresh channel is trusted until it misses a change; its renewal is planned from its expiry."""
    connection.channel_missed_at = None
    connection.next_watch_at = (renewal_time(connection.channel_expires_at) if connection.channel_expires_at
                                else utcnow() + jittered(settings.watch_retry))


def notified(connection: CalendarConnection) -> bool:
    """A verified notification: the channel delivers, whatever a poll suspected before. Returns whether that
    is news worth a write (at most one a minute per connection, however busy its calendar)."""
    now = utcnow()
    if connection.channel_missed_at is None and connection.last_notified_at and \
            now - connection.last_notified_at < NOTIFIED_EVERY:
        return False
    connection.last_notified_at, connection.channel_missed_at = now, None
    return True


def after_poll(connection: CalendarConnection, run: SyncRun, previous_sync: datetime | None,
               settings: SyncSettings) -> None:
    """A poll found `run.total` changes. If none was announced since our previous sync, the channel missed
    them: no longer trusted, renewed at the next sweep. Then the next poll, by the health that holds now."""
    now = utcnow()
    db.session.refresh(connection, ["last_notified_at"])  # a notification may have arrived while we polled
    unannounced = connection.last_notified_at is None or (
        previous_sync is not None and connection.last_notified_at < previous_sync)
    if run.total and connection.channel_id and unannounced:
        log.warning("connection %s: a poll found %s changes its channel did not announce", connection.id, run.total)
        connection.channel_missed_at = connection.next_watch_at = now
    healthy = db.session.scalar(sa.select(healthy_now(now, settings)).where(CalendarConnection.id == connection.id)) \
        if connection.channel_missed_at is None else False
    connection.next_poll_at = now + jittered(poll_interval(bool(healthy), settings))
