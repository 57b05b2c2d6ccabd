"""Google's use limits: pause a connection's writes for hours, say until when, and resume by itself.

Google answers 403 `quotaExceeded` ("Calendar usage limits exceeded.") when a calendar received too
many new events in a short period, and keeps it read-only for hours. Retrying soon cannot help and
the items are not at fault, so nothing is marked failed: the outbox keeps every change, the card says
when we continue, and a delayed job (`jobs.sync`, which sees the pause begin) continues then. Push
Existing Data stays well under that limit with a daily ceiling of its own and continues in daily
instalments.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from ..models import CalendarConnection, utcnow
from ..timefmt import format_dt


def when(moment: datetime, connection: CalendarConnection) -> str:
    """HH:MM in the user's time zone, with the day when it is not within the next day."""
    fmt = "%H:%M" if moment - utcnow() < timedelta(hours=20) else "%a %d %b, %H:%M"
    return format_dt(moment, connection.user.timezone, fmt)


def paused_message(connection: CalendarConnection) -> str:
    return ("Google has limited changes to this calendar for a few hours; we will continue at "
            f"{when(connection.writes_paused_until, connection)}.")


def pause_writes(connection: CalendarConnection) -> str:
    """Google's use limit reached: writes wait until the pause ends. Returns the message."""
    until = utcnow() + timedelta(hours=current_app.config["GOOGLE_USE_LIMIT_PAUSE_HOURS"])
    if connection.writes_paused:
        until = connection.writes_paused_until  # refused by our own client while paused: the pause stands
    connection.writes_paused_until = until
    current_app.logger.warning("Google use limit for connection %s: writes paused until %s", connection.id, until)
    return paused_message(connection)


def next_instalment_at() -> datetime:
    """The daily ceiling counts per UTC day: the next instalment starts just after midnight UTC."""
    return datetime.combine(utcnow().date() + timedelta(days=1), datetime.min.time()) + timedelta(minutes=5)


def instalments_message(connection: CalendarConnection, left: int, at: datetime) -> str:
    """`left` items wait for the daily ceiling to renew at `at`: say so in words (after what was done)."""
    return (f"Google limits how many events a calendar may receive in a day, so the other {left:,} follow "
            f"in daily instalments, the next at {when(at, connection)}.")
