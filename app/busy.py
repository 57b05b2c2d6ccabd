"""Busy times from a person's own Google calendars: "Check my Google calendars for conflicts".

A person who turns it on (on their 2-way card) grants the one extra read-only free/busy permission and picks
the calendars that count as busy (their primary by default). What is read is Google's free/busy answer: busy
intervals, never a title or an attendee, and nothing of it is written to the database.

- The sync calendar is never asked for: the portal's own items are in it (an appointment would conflict with
  its own copy), and what else is in it the portal already holds as Google events from its pulls.
- One free/busy query a person for a range (up to 50 calendars in it), kept in Redis for CACHE_SECONDS;
  a push notification on the connection, a change of choice and turning it off forget it.
- Whatever goes wrong (the permission revoked, Google down or refusing, Redis down) makes that person's busy
  times "unavailable": the caller says so in words and booking goes on.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from redis.exceptions import RedisError

from .extensions import db
from .google import FREEBUSY_SCOPE, GoogleError, client_for
from .models import CalendarConnection, ConnectionKind, ConnectionStatus, GoogleEvent, User
from .queues import get_redis, redis_key

CACHE_SECONDS = 300
LONGEST_RANGE = timedelta(days=62)  # the longest range asked at once (a month grid is at most 42 days)


@dataclass(frozen=True, order=True)
class Busy:
    """One busy interval, naive UTC like every stored time."""

    start: datetime
    end: datetime


def shares_busy_times(connection: CalendarConnection | None) -> bool:
    return bool(connection and connection.busy_calendars and FREEBUSY_SCOPE in connection.scope_set
                and connection.status is ConnectionStatus.ACTIVE)


def sharing_connections(users: list[User]) -> dict[int, CalendarConnection]:
    """{user id: 2-way connection} of those of `users` who share their busy times."""
    rows = db.session.scalars(sa.select(CalendarConnection).where(
        CalendarConnection.user_id.in_([user.id for user in users]),
        CalendarConnection.kind == ConnectionKind.TWO_WAY))
    return {row.user_id: row for row in rows if shares_busy_times(row)}


def choose_calendars(connection: CalendarConnection, calendars: dict[str, str] | None) -> None:
    """Turn it on with these calendars ({id: name}; None: the primary), or off with {}; forgets what was kept."""
    primary = {connection.google_email: connection.google_email}
    connection.busy_calendars = (primary if calendars is None else calendars) or None
    forget(connection.id)


def forget(connection_id: int) -> None:
    """Kept answers of this connection are no longer read (a new generation of keys)."""
    try:
        get_redis().incr(redis_key("busy", connection_id, "generation"))
    except RedisError:
        current_app.logger.warning("Busy times of connection %s could not be forgotten (Redis)", connection_id)


def busy_times(connection: CalendarConnection, start: datetime, end: datetime) -> list[Busy] | None:
    """Merged busy intervals between `start` and `end` (naive UTC), None when they cannot be known now."""
    elsewhere = busy_in_other_calendars(connection, start, end)
    if elsewhere is None:
        return None
    chosen = connection.busy_calendars or {}
    in_sync_calendar = _sync_calendar_events(connection, start, end) if connection.calendar_id in chosen else []
    return merged(elsewhere + in_sync_calendar, start, end)


def busy_in_other_calendars(connection: CalendarConnection, start: datetime, end: datetime) -> list[Busy] | None:
    """What Google's free/busy tells of the chosen calendars other than the sync calendar (whose events the
    portal shows itself); None when it cannot be known now."""
    end = min(end, start + LONGEST_RANGE)
    asked = [cid for cid in connection.busy_calendars or {} if cid != connection.calendar_id]
    from_google = _kept_or_asked(connection, asked, start, end) if asked else []
    return None if from_google is None else merged(from_google, start, end)


def merged(spans: list[Busy], start: datetime, end: datetime) -> list[Busy]:
    """Clipped to [start, end), sorted, overlapping or touching intervals joined."""
    out: list[Busy] = []
    for span in sorted(Busy(max(s.start, start), min(s.end, end)) for s in spans):
        if span.start >= span.end:
            continue
        if out and span.start <= out[-1].end:
            out[-1] = Busy(out[-1].start, max(out[-1].end, span.end))
        else:
            out.append(span)
    return out


def _kept_or_asked(connection: CalendarConnection, calendar_ids: list[str], start: datetime,
                   end: datetime) -> list[Busy] | None:
    try:
        redis = get_redis()
        generation = int(redis.get(redis_key("busy", connection.id, "generation")) or 0)
        key = redis_key("busy", connection.id, generation, start.isoformat(), end.isoformat())
        kept = redis.get(key)
    except RedisError:
        return None
    if kept is not None:
        return [Busy(datetime.fromisoformat(s), datetime.fromisoformat(e)) for s, e in json.loads(kept)]
    try:
        answer, errors = client_for(connection).free_busy(calendar_ids, start, end)
    except GoogleError as exc:
        current_app.logger.info("Busy times of connection %s unavailable: %s", connection.id, exc)
        return None
    if errors:
        current_app.logger.info("Busy times of connection %s: calendars answered %s", connection.id, errors)
    spans = [Busy(_utc(b["start"]), _utc(b["end"])) for b in answer]
    try:
        redis.set(key, json.dumps([(s.start.isoformat(), s.end.isoformat()) for s in spans]), ex=CACHE_SECONDS)
    except RedisError:
        pass  # answered, only not kept
    return spans


def _sync_calendar_events(connection: CalendarConnection, start: datetime, end: datetime) -> list[Busy]:
    """Timed Google events of the sync calendar (another app's or the person's own, as pulled)."""
    rows = db.session.execute(sa.select(GoogleEvent.start_at, GoogleEvent.end_at).where(
        GoogleEvent.connection_id == connection.id, GoogleEvent.all_day.is_(False),
        GoogleEvent.start_at < end, GoogleEvent.end_at > start))
    return [Busy(row.start_at, row.end_at) for row in rows]


def _utc(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)
