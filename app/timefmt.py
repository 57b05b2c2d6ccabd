"""Time zone conversion for display and forms: storage is naive UTC, people see their own zone."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def to_local(value: datetime | None, tz_name: str | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC).astimezone(zone(tz_name))


def to_utc(local: datetime, tz_name: str | None) -> datetime:
    """A naive wall-clock time in `tz_name` → naive UTC for storage."""
    return local.replace(tzinfo=zone(tz_name)).astimezone(UTC).replace(tzinfo=None)


def utc_days(first: date, last: date, tz_name: str | None) -> tuple[datetime, datetime]:
    """The start of `first` and the end of `last` (local days in `tz_name`), as naive UTC."""
    return (to_utc(datetime.combine(first, time()), tz_name),
            to_utc(datetime.combine(last + timedelta(days=1), time()), tz_name))


def format_dt(value: datetime | None, tz_name: str | None = "UTC", fmt: str = "%a %d %b %Y, %H:%M") -> str:
    local = to_local(value, tz_name)
    return local.strftime(fmt) if local else ""


def format_date(value: date | None, fmt: str = "%a %d %b %Y") -> str:
    return value.strftime(fmt) if value else ""


def register(app: Flask) -> None:
    app.add_template_filter(format_dt, "dt")
    app.add_template_filter(format_date, "d")
