"""Date/time parsing and formatting in the shapes the Calendar API uses.

Kept separate so the API, the recurrence expander and the UI all agree on how
`start`/`end` objects (timed or all-day) map to absolute instants.
"""
from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = dt.UTC
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def now() -> dt.datetime:
    return dt.datetime.now(UTC)


def fmt_utc(d: dt.datetime) -> str:
    """`2024-01-01T10:00:00.000Z`, Google's `created`/`updated` format."""
    d = d.astimezone(UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (d.microsecond // 1000)


def parse_rfc3339(s: str, require_offset: bool = True) -> dt.datetime:
    """Parse an RFC3339 timestamp; raises ValueError when malformed or (optionally) offset-less."""
    if not isinstance(s, str) or len(s) < 10:
        raise ValueError("bad timestamp")
    v = s.strip()
    if v[-1] in "zZ":
        v = v[:-1] + "+00:00"
    d = dt.datetime.fromisoformat(v)
    if d.tzinfo is None and require_offset:
        raise ValueError("missing offset")
    return d


def zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return None


def is_date(s: object) -> bool:
    if not isinstance(s, str) or not _DATE_RE.match(s):
        return False
    try:
        dt.date.fromisoformat(s)
        return True
    except ValueError:
        return False


def fmt_local(d: dt.datetime) -> str:
    return d.isoformat(timespec="seconds")


def bound(t: dict, tz_default: str) -> dt.datetime:
    """Absolute instant of a start/end object (all-day dates are midnight in the calendar zone)."""
    if t is None:
        raise ValueError("no time")
    if t.get("dateTime"):
        d = parse_rfc3339(t["dateTime"], require_offset=False)
        if d.tzinfo is None:
            d = d.replace(tzinfo=zone(t.get("timeZone")) or zone(tz_default) or UTC)
        return d
    if t.get("date"):
        z = zone(tz_default) or UTC
        return dt.datetime.combine(dt.date.fromisoformat(t["date"]), dt.time(), z)
    raise ValueError("no time")


def overlaps(s: dt.datetime, e: dt.datetime, tmin: dt.datetime | None, tmax: dt.datetime | None,
             closed: bool = False) -> bool:
    """Whether [s, e) meets [tmin, tmax) (None = unbounded), Google's window rule: a zero-length event
    at tmin counts; `closed` also keeps events ending exactly at tmin (events.instances does)."""
    return (tmin is None or e > tmin or (closed and e >= tmin) or (s == e and s >= tmin)) and \
        (tmax is None or s < tmax)
