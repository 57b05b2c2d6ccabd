"""Google's field rules for an event body: times, recurrence, reminders, extended properties, enums.

Plain functions over dicts: `validate_event` normalises a body in place or raises the `ApiError`
Google would answer with, so insert, patch, update and the calendar UI all refuse the same things.
"""
from __future__ import annotations

import copy
import datetime as dt
import re
from typing import Any

from . import errors as E
from .recurrence import RecurrenceError, occurrences
from .service_core import WRITER_ROLES, Calendar, Event
from .timeutil import bound, fmt_local, is_date, parse_rfc3339, zone

ID_RE = re.compile(r"^[a-v0-9]{5,1024}$")
READ_ONLY_FIELDS = ("kind", "etag", "htmlLink", "created", "updated", "creator", "hangoutLink",
                    "recurringEventId", "privateCopy", "locked")
ENUMS = {"status": (None, "confirmed", "tentative", "cancelled"),
         "transparency": (None, "opaque", "transparent"),
         "visibility": (None, "default", "public", "private", "confidential")}


def norm_time(t: Any, label: str) -> dict:
    """A `start`/`end` object in Google's stored shape (local dateTime with its zone, or a date)."""
    if not isinstance(t, dict) or not (t.get("date") or t.get("dateTime")):
        raise E.required(f"Missing {label} time.", location=label)
    if t.get("date") and t.get("dateTime"):
        raise E.bad_request(f"Invalid {label} time.", reason="invalid", location=label)
    out: dict[str, str] = {}
    tzname = t.get("timeZone")
    if tzname and not zone(tzname):
        raise E.invalid(f"Invalid time zone definition for {label} time.", location=label)
    if t.get("date"):
        if not is_date(t["date"]):
            raise E.bad_request(f"Invalid {label} time.", reason="invalid", location=label)
        out["date"] = t["date"]
        if tzname:
            out["timeZone"] = tzname
        return out
    try:
        d = parse_rfc3339(t["dateTime"], require_offset=False)
    except (ValueError, TypeError):
        raise E.bad_request(f"Invalid {label} time.", reason="invalid", location=label)
    if d.tzinfo is None:
        if not tzname:
            raise E.bad_request(f"Missing time zone definition for {label} time.", location=label)
        d = d.replace(tzinfo=zone(tzname))
    if tzname:
        d = d.astimezone(zone(tzname))
        out["timeZone"] = tzname
    out["dateTime"] = fmt_local(d)
    return out


def validate_event(ev: Event, cal: Calendar) -> None:
    """Normalise and check an event body in place (Google's field rules)."""
    if not (ev.get("status") == "cancelled" and ev.get("recurringEventId")):  # a cancelled instance has no times
        _validate_times(ev, cal["time_zone"])
    _validate_recurrence(ev, cal["time_zone"])
    _validate_reminders(ev)
    _validate_extended_properties(ev)
    for field, allowed in ENUMS.items():
        if ev.get(field) not in allowed:
            raise E.invalid(f"Invalid value for: {field}", location=field)
    if ev.get("attendees") is not None:
        if not isinstance(ev["attendees"], list):
            raise E.invalid("Invalid attendees.", location="attendees")
        for a in ev["attendees"]:
            if not isinstance(a, dict) or not a.get("email"):
                raise E.required("Missing attendee email.", location="attendees.email")
            a.setdefault("responseStatus", "needsAction")


def _validate_times(ev: Event, cal_tz: str) -> None:
    ev["start"] = norm_time(ev.get("start"), "start")
    ev["end"] = norm_time(ev.get("end"), "end")
    if bool(ev["start"].get("date")) != bool(ev["end"].get("date")):
        raise E.bad_request("Invalid start time.", reason="invalid", location="start")
    if bound(ev["end"], cal_tz) <= bound(ev["start"], cal_tz):
        raise E.ApiError(400, "timeRangeEmpty", "The specified time range is empty.", domain="calendar")


def _validate_recurrence(ev: Event, cal_tz: str) -> None:
    rec = ev.get("recurrence")
    if rec is None:
        return
    if not isinstance(rec, list) or not all(isinstance(x, str) for x in rec):
        raise E.invalid("Invalid recurrence rule.", location="recurrence")
    if not rec:
        ev.pop("recurrence")
        return
    if ev.get("recurringEventId"):
        raise E.invalid("Invalid recurrence rule.", location="recurrence")
    if ev["start"].get("dateTime") and not ev["start"].get("timeZone"):
        raise E.bad_request("Missing time zone definition for start time.", location="start")
    if any(x.upper().startswith("DTSTART") for x in rec):
        raise E.invalid("Invalid recurrence rule.", location="recurrence")
    try:
        occurrences(ev, cal_tz, window_end=bound(ev["start"], cal_tz) + dt.timedelta(days=1))
    except (RecurrenceError, ValueError, TypeError, KeyError):
        raise E.invalid("Invalid recurrence rule.", location="recurrence")


def _validate_reminders(ev: Event) -> None:
    rem = ev.get("reminders")
    if rem is None:
        ev["reminders"] = {"useDefault": True}
        return
    if not isinstance(rem, dict):
        raise E.invalid("Invalid reminders.", location="reminders")
    overrides = rem.get("overrides") or []
    if rem.get("useDefault") and overrides:
        raise E.ApiError(400, "cannotUseDefaultRemindersAndSpecifyOverride",
                         "Cannot specify both default reminders and overrides at the same time.", domain="calendar")
    if len(overrides) > 5:
        raise E.ApiError(400, "eventRemindersCountExceedsLimit", "The number of reminders exceeds the limit.",
                         domain="calendar")
    for o in overrides:
        if not isinstance(o, dict) or o.get("method") not in ("email", "popup"):
            raise E.invalid("Invalid reminder method.", location="reminders.overrides.method")
        m = o.get("minutes")
        if not isinstance(m, int) or isinstance(m, bool) or not 0 <= m <= 40320:
            raise E.invalid("Invalid reminder minutes.", location="reminders.overrides.minutes")
    rem["useDefault"] = bool(rem.get("useDefault", False))
    if not overrides:
        rem.pop("overrides", None)


def _validate_extended_properties(ev: Event) -> None:
    """Keys over 44 characters are dropped and values cut at 1024, silently, as Google does."""
    xp = ev.get("extendedProperties")
    if xp is None:
        return
    if not isinstance(xp, dict):
        raise E.invalid("Invalid extended properties.", location="extendedProperties")
    total = 0
    for kind in ("private", "shared"):
        m = xp.get(kind)
        if m is None:
            xp.pop(kind, None)
            continue
        if not isinstance(m, dict):
            raise E.invalid("Invalid extended properties.", location="extendedProperties")
        clean = {}
        for k, v in m.items():
            if v is None or len(str(k)) > 44:
                continue
            clean[str(k)] = str(v)[:1024]
            total += len(str(k)) + len(clean[str(k)])
        xp[kind] = clean
    count = sum(len(xp.get(k, {})) for k in ("private", "shared"))
    if count > 300 or total > 32 * 1024:
        raise E.ApiError(400, "tooManyExtendedProperties", "Too many extended properties.", domain="calendar")


def check_writer(cal: Calendar) -> None:
    if cal["access_role"] not in WRITER_ROLES:
        raise E.writer_required()


def check_if_match(current: Event | None, if_match: str | None) -> None:
    if if_match and if_match.strip() != "*" and current is not None:
        tags = [t.strip().removeprefix("W/") for t in if_match.split(",")]
        if current.get("etag") not in tags:
            raise E.condition_not_met()


def patch_merge(old: Event, body: dict) -> Event:
    """PATCH semantics on a copy of `old`: nested objects merge, arrays and start/end replace, null clears;
    read-only and identity fields in the body are ignored."""
    ev = copy.deepcopy(old)
    for k, v in body.items():
        if k in READ_ONLY_FIELDS or k in ("id", "recurringEventId", "originalStartTime"):
            continue
        if v is None:
            ev.pop(k, None)
        elif k in ("start", "end") or not isinstance(v, dict) or not isinstance(ev.get(k), dict):
            ev[k] = copy.deepcopy(v)
        else:
            _merge(ev[k], v)
    return ev


def _merge(dst: dict, src: dict) -> None:
    for k, v in src.items():
        if v is None:
            dst.pop(k, None)
        elif isinstance(v, dict) and isinstance(dst.get(k), dict):
            _merge(dst[k], v)
        else:
            dst[k] = copy.deepcopy(v)


def writable_copy(body: dict) -> Event:
    """The client-settable fields of an insert or update body (read-only fields and nulls dropped)."""
    return {k: copy.deepcopy(v) for k, v in body.items() if k not in READ_ONLY_FIELDS and v is not None}
