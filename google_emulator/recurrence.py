"""Expansion of RRULE/EXRULE/RDATE/EXDATE recurrences with python-dateutil.

Google stores `recurrence` without DTSTART (it comes from `start`), so we build
the dateutil rruleset ourselves, normalising RDATE/EXDATE values (TZID params,
VALUE=DATE, UTC) to the event's zone so naive/aware values never get mixed.
Infinite rules are capped (HORIZON_DAYS after now and MAX_INSTANCES).
"""
from __future__ import annotations

import datetime as dt
import re

from dateutil.rrule import rruleset, rrulestr

from .timeutil import UTC, parse_rfc3339, zone

HORIZON_DAYS = 730
MAX_INSTANCES = 730


class RecurrenceError(ValueError):
    pass


def _parse_value(val: str, params: dict, tz: dt.tzinfo, all_day: bool, dtstart: dt.datetime) -> dt.datetime:
    val = val.strip()
    if re.fullmatch(r"\d{8}", val) or params.get("VALUE") == "DATE":
        d = dt.datetime.strptime(val[:8], "%Y%m%d")
        if all_day:
            return d
        return dt.datetime.combine(d.date(), dtstart.timetz()).replace(tzinfo=tz)
    m = re.fullmatch(r"(\d{8}T\d{6})(Z?)", val)
    if not m:
        raise RecurrenceError("bad date value " + val)
    d = dt.datetime.strptime(m.group(1), "%Y%m%dT%H%M%S")
    if m.group(2):
        d = d.replace(tzinfo=UTC)
    elif params.get("TZID"):
        d = d.replace(tzinfo=zone(params["TZID"]) or tz)
    else:
        d = d.replace(tzinfo=tz)
    if all_day:
        return dt.datetime.combine(d.date(), dt.time())
    return d.astimezone(tz)


def _fix_until(line: str, tz: dt.tzinfo, all_day: bool) -> str:
    """dateutil needs UNTIL in UTC for aware DTSTART and naive for naive DTSTART."""
    def repl(m: re.Match) -> str:
        v = m.group(1)
        if all_day:
            return "UNTIL=" + v[:8]
        if v.endswith("Z"):
            return "UNTIL=" + v
        if len(v) == 8:
            d = dt.datetime.strptime(v, "%Y%m%d").replace(hour=23, minute=59, second=59, tzinfo=tz)
        else:
            d = dt.datetime.strptime(v[:15], "%Y%m%dT%H%M%S").replace(tzinfo=tz)
        return "UNTIL=" + d.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return re.sub(r"UNTIL=([0-9TZ]+)", repl, line)


def build_set(recurrence: list, dtstart: dt.datetime, all_day: bool) -> rruleset:
    """A dateutil rruleset for the event's recurrence lines (raises RecurrenceError)."""
    tz = dtstart.tzinfo
    rs = rruleset()
    has_rule = False
    for raw in recurrence or []:
        if not isinstance(raw, str) or ":" not in raw:
            raise RecurrenceError("bad line")
        head, _, value = raw.strip().partition(":")
        name, *pparts = head.split(";")
        params = {}
        for p in pparts:
            k, _, v = p.partition("=")
            params[k.upper()] = v
        name = name.upper()
        try:
            if name in ("RRULE", "EXRULE"):
                rule = rrulestr(_fix_until("RRULE:" + value, tz, all_day), dtstart=dtstart)
                (rs.rrule if name == "RRULE" else rs.exrule)(rule)
                has_rule = has_rule or name == "RRULE"
            elif name in ("RDATE", "EXDATE"):
                for v in value.split(","):
                    d = _parse_value(v, params, tz, all_day, dtstart)
                    (rs.rdate if name == "RDATE" else rs.exdate)(d)
                    has_rule = has_rule or name == "RDATE"
            else:
                raise RecurrenceError("unsupported line " + name)
        except RecurrenceError:
            raise
        except Exception as e:  # dateutil raises ValueError/TypeError on bad rules
            raise RecurrenceError(str(e)) from e
    if not has_rule:
        raise RecurrenceError("no rule")
    # RFC 5545: DTSTART is always the first instance even if the rule would not
    # generate it (EXDATE can still remove it; rruleset dedups identical instants).
    rs.rdate(dtstart)
    return rs


def master_start(ev: dict, cal_tz: str) -> tuple[dt.datetime, bool, dt.timedelta]:
    """(dtstart, all_day, duration) of a master event in the zone its rule is evaluated in."""
    s, e = ev["start"], ev["end"]
    if s.get("date"):
        ds = dt.datetime.strptime(s["date"], "%Y-%m-%d")
        de = dt.datetime.strptime(e["date"], "%Y-%m-%d")
        return ds, True, de - ds
    tz = zone(s.get("timeZone")) or zone(cal_tz) or UTC
    ds = parse_rfc3339(s["dateTime"], require_offset=False)
    ds = ds.replace(tzinfo=tz) if ds.tzinfo is None else ds.astimezone(tz)
    de = parse_rfc3339(e["dateTime"], require_offset=False)
    de = de.replace(tzinfo=tz) if de.tzinfo is None else de
    return ds, False, de - ds


def occurrences(ev: dict, cal_tz: str, window_start: dt.datetime | None = None,
                window_end: dt.datetime | None = None,
                now: dt.datetime | None = None) -> tuple[list[dt.datetime], bool, dt.timedelta]:
    """Original start times (aware datetimes, or naive midnights for all-day) of a master's instances
    whose [start, end) may intersect the window; capped for infinite rules."""
    dtstart, all_day, dur = master_start(ev, cal_tz)
    rs = build_set(ev.get("recurrence") or [], dtstart, all_day)
    now = now or dt.datetime.now(UTC)
    ref = dtstart if not all_day else dtstart.replace(tzinfo=zone(cal_tz) or UTC)
    horizon = max(now, ref) + dt.timedelta(days=HORIZON_DAYS)
    end = horizon if window_end is None else min(window_end, horizon)
    cal_zone = zone(cal_tz) or UTC

    def absolute(d: dt.datetime) -> dt.datetime:
        return d.replace(tzinfo=cal_zone) if all_day else d

    out: list[dt.datetime] = []
    it = iter(rs)
    if window_start is not None:
        lo = window_start - dur - dt.timedelta(days=1)
        lo = lo.astimezone(cal_zone).replace(tzinfo=None) if all_day else lo
        it = rs.xafter(lo, inc=True)
    for d in it:
        if absolute(d) >= end:
            break
        out.append(d)
        if len(out) >= MAX_INSTANCES:
            break
    return out, all_day, dur


def instance_suffix(orig: dt.datetime, all_day: bool) -> str:
    if all_day:
        return orig.strftime("%Y%m%d")
    return orig.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def parse_instance_id(event_id: str) -> tuple[str, str] | None:
    """Split `<masterId>_<suffix>` into (master_id, suffix) or None."""
    if "_" not in event_id:
        return None
    master, _, suffix = event_id.rpartition("_")
    if re.fullmatch(r"\d{8}", suffix) or re.fullmatch(r"\d{8}T\d{6}Z", suffix):
        return master, suffix
    return None
