"""Google's use limits: pause a connection's writes for hours, and resume by itself.

Google answers 403 `quotaExceeded` ("Calendar usage limits exceeded.") when a calendar received too
many new events in a short period, and keeps it read-only for hours. Retrying soon cannot help and
the items are not at fault, so nothing is marked failed: the outbox keeps every change, the card says
when we continue, and a delayed job (the job runner sees the pause begin) continues then. Push Existing
Data stays well under that limit with a daily ceiling of its own and continues in daily instalments.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from ..models import CalendarConnection, utcnow

log = logging.getLogger(__name__)


def pause_writes(connection: CalendarConnection, pause: timedelta) -> datetime:
    """Google's use limit reached: writes wait until the pause ends. Returns when they continue."""
    until = utcnow() + pause
    if connection.writes_paused:
        until = connection.writes_paused_until  # refused by our own client while paused: the pause stands
    connection.writes_paused_until = until
    log.warning("Google use limit for connection %s: writes paused until %s", connection.id, until)
    return until


def next_instalment_at() -> datetime:
    """The daily ceiling counts per UTC day: the next instalment starts just after midnight UTC."""
    return datetime.combine(utcnow().date() + timedelta(days=1), datetime.min.time()) + timedelta(minutes=5)
