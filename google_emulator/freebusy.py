"""freebusy.query: the busy intervals of calendars, as Google documents it.

- Body: `timeMin`, `timeMax` (RFC3339, required), optional `timeZone` for the answer (default UTC),
  `calendarExpansionMax` (at most 50), `groupExpansionMax` (at most 100), `items: [{"id"}]`.
- A calendar the caller cannot see, or that does not exist, answers inside a 200 with
  `errors: [{"domain": "global", "reason": "notFound"}]` and no busy time; calendars past the 50th (or past
  `calendarExpansionMax`) answer `tooManyCalendarsRequested` (domain `usageLimits`) the same way.
- Busy = every event that is not cancelled and not `transparency: transparent`, recurring series
  expanded, clipped to the range and merged where intervals meet. Nothing else of an event is told.
- The range may span at most FREEBUSY_MAX_DAYS days (Google refuses long ranges; its exact bound is not
  documented, so the emulator's is a setting of the emulator, not a claim about Google).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from . import errors as E
from .timeutil import UTC, bound, parse_rfc3339, zone

CALENDARS_MAX = 50
GROUPS_MAX = 100
FREEBUSY_MAX_DAYS = 93
PAGE = "2500"


def query(svc: Any, email: str, body: Any) -> dict:
    """The answer to one freebusy.query of `email` (the caller)."""
    if not isinstance(body, dict):
        raise E.bad_request("Invalid request body.")
    tmin, tmax = _time(body, "timeMin"), _time(body, "timeMax")
    if tmin >= tmax:
        raise E.time_range_empty()
    if tmax - tmin > dt.timedelta(days=FREEBUSY_MAX_DAYS):
        raise E.bad_request("The requested time range is too long.", reason="timeRangeTooLong")
    answer_zone = _answer_zone(body.get("timeZone"))
    expansion = _bounded_int(body, "calendarExpansionMax", CALENDARS_MAX)
    _bounded_int(body, "groupExpansionMax", GROUPS_MAX)
    items = body.get("items") or []
    if not isinstance(items, list) or not all(isinstance(i, dict) and isinstance(i.get("id"), str) for i in items):
        raise E.invalid("Invalid value for: items", location="items")
    calendars: dict[str, dict] = {}
    for n, item in enumerate(items):
        if n >= expansion:
            calendars[item["id"]] = _error("usageLimits", "tooManyCalendarsRequested")
            continue
        try:
            cal = svc.resolve(email, item["id"])
        except E.ApiError:
            calendars[item["id"]] = _error("global", "notFound")
            continue
        calendars[item["id"]] = {"busy": [{"start": _fmt(s, answer_zone), "end": _fmt(e, answer_zone)}
                                          for s, e in busy_intervals(svc, cal, tmin, tmax)]}
    return {"kind": "calendar#freeBusy", "timeMin": _fmt(tmin, UTC), "timeMax": _fmt(tmax, UTC),
            "calendars": calendars}


def busy_intervals(svc: Any, cal: dict, tmin: dt.datetime, tmax: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """Merged [start, end) of the calendar's opaque events within [tmin, tmax)."""
    spans, token = [], None
    while True:
        params = {"timeMin": _fmt(tmin, UTC), "timeMax": _fmt(tmax, UTC), "singleEvents": "true", "maxResults": PAGE}
        if token:
            params["pageToken"] = token
        page = svc.list_events(cal, params)
        for ev in page.get("items", []):
            if ev.get("status") == "cancelled" or ev.get("transparency") == "transparent":
                continue
            start, end = bound(ev["start"], cal["time_zone"]), bound(ev["end"], cal["time_zone"])
            spans.append((max(start, tmin), min(end, tmax)))
        token = page.get("nextPageToken")
        if not token:
            break
    merged: list[tuple[dt.datetime, dt.datetime]] = []
    for start, end in sorted(s for s in spans if s[0] < s[1]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _time(body: dict, name: str) -> dt.datetime:
    if not body.get(name):
        raise E.required(f"Missing {name}.", location=name)
    try:
        return parse_rfc3339(body[name])
    except ValueError as exc:
        raise E.invalid(f"Invalid value for: {name}", location=name) from exc


def _answer_zone(name: Any) -> dt.tzinfo:
    if name in (None, ""):
        return UTC
    found = zone(name) if isinstance(name, str) else None
    if found is None:
        raise E.invalid("Invalid value for: timeZone", location="timeZone")
    return found


def _bounded_int(body: dict, name: str, most: int) -> int:
    value = body.get(name, most)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= most:
        raise E.invalid(f"Invalid value for: {name} (at most {most})", location=name)
    return value


def _error(domain: str, reason: str) -> dict:
    return {"errors": [{"domain": domain, "reason": reason}], "busy": []}


def _fmt(instant: dt.datetime, answer_zone: dt.tzinfo) -> str:
    local = instant.astimezone(answer_zone)
    return local.strftime("%Y-%m-%dT%H:%M:%SZ") if answer_zone is UTC else local.isoformat(timespec="seconds")
