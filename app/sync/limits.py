"""Google's use limits: pause a connection's writes for hours, say until when, and resume by itself.

Google answers 403 `quotaExceeded` ("Calendar usage limits exceeded.") when a calendar received too
many new events in a short period, and keeps it read-only for hours. Retrying soon cannot help and
the items are not at fault, so nothing is marked failed: the outbox keeps every change, the card says
when we continue, and a delayed job continues then. Push Existing Data stays well under that limit
with a daily ceiling of its own and continues in daily instalments.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import current_app

from ..models import CalendarConnection, SyncRun, utcnow
from ..queues import get_queue
from ..timefmt import format_dt
from .scheduling import JOB_OPTIONS

RESUME_PUSH_EXISTING = "jobs.sync.resume_push_existing"


def when(moment: datetime, connection: CalendarConnection) -> str:
    """HH:MM in the user's time zone, with the day when it is not within the next day."""
    fmt = "%H:%M" if moment - utcnow() < timedelta(hours=20) else "%a %d %b, %H:%M"
    return format_dt(moment, connection.user.timezone, fmt)


def paused_message(connection: CalendarConnection) -> str:
    return ("Google has limited changes to this calendar for a few hours; we will continue at "
            f"{when(connection.writes_paused_until, connection)}.")


def pause_writes(connection: CalendarConnection, run: SyncRun) -> str:
    """Google's use limit reached during `run`: writes wait, a job continues them later. Returns the message."""
    until = utcnow() + timedelta(hours=current_app.config["GOOGLE_USE_LIMIT_PAUSE_HOURS"])
    if connection.writes_paused:
        until = connection.writes_paused_until  # refused by our own client while paused: the pause stands
    connection.writes_paused_until = until
    current_app.logger.warning("Google use limit for connection %s: writes paused until %s", connection.id, until)
    if run.kind == "push_existing":
        schedule_push_existing(connection, until, run.items_since)
    else:  # the outbox still holds every change; the push job drains it
        get_queue().enqueue_at(until, "jobs.sync.push_changes", connection.id, result_ttl=600, **JOB_OPTIONS)
    return paused_message(connection)


def schedule_push_existing(connection: CalendarConnection, at: datetime, items_since: date | None) -> None:
    """Push Existing Data again at `at` (after a pause, or the next daily instalment)."""
    get_queue().enqueue_at(at, RESUME_PUSH_EXISTING, connection.id, items_since and items_since.isoformat(),
                           result_ttl=600, **JOB_OPTIONS)


def next_instalment_at() -> datetime:
    """The daily ceiling counts per UTC day: the next instalment starts just after midnight UTC."""
    return datetime.combine(utcnow().date() + timedelta(days=1), datetime.min.time()) + timedelta(minutes=5)


def continue_in_instalments(connection: CalendarConnection, run: SyncRun, left: int) -> str:
    """Part of Push Existing Data waits for tomorrow's ceiling: schedule it and say so. Returns the message."""
    at = next_instalment_at()
    schedule_push_existing(connection, at, run.items_since)
    pushed = run.total - left
    return (f"{pushed:,} of {run.total:,} items pushed. Google limits how many events a calendar may receive "
            f"in a day, so the other {left:,} follow in daily instalments, the next at {when(at, connection)}.")
