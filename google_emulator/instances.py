"""Instances of recurring events: virtual instances at their original start, exceptions applied.

An instance that was never changed has no row; it is materialised from its master on demand, with
Google's id `<masterId>_<YYYYMMDDTHHMMSSZ>` (`_<YYYYMMDD>` all-day). A changed or cancelled instance is
an exception row carrying `recurringEventId` and `originalStartTime`.
"""
from __future__ import annotations

import copy
import datetime as dt

from .recurrence import RecurrenceError, instance_suffix, master_start, occurrences, parse_instance_id
from .service_core import Calendar, Event, ServiceCore
from .timeutil import UTC, bound, fmt_local, overlaps, zone

HORIZON_PAST_DAYS = 366
"""How far back an incremental singleEvents list and a series change look for instances."""


class InstancesMixin(ServiceCore):
    def _materialize(self, cal: Calendar, master: Event, orig: dt.datetime, all_day: bool,
                     dur: dt.timedelta) -> Event:
        """A virtual instance of a recurring master at original start `orig`."""
        inst = copy.deepcopy(master)
        inst.pop("recurrence", None)
        inst["id"] = f"{master['id']}_{instance_suffix(orig, all_day)}"
        inst["recurringEventId"] = master["id"]
        if all_day:
            d0 = orig.date()
            inst["originalStartTime"] = {"date": d0.isoformat()}
            inst["start"] = {"date": d0.isoformat()}
            inst["end"] = {"date": (orig + dur).date().isoformat()}
        else:
            tzname = master["start"].get("timeZone")
            inst["originalStartTime"] = {"dateTime": fmt_local(orig)}
            inst["start"] = {"dateTime": fmt_local(orig)}
            end_tz = zone(master["end"].get("timeZone")) or orig.tzinfo
            inst["end"] = {"dateTime": fmt_local((orig + dur).astimezone(end_tz))}
            if tzname:
                inst["originalStartTime"]["timeZone"] = tzname
                inst["start"]["timeZone"] = tzname
            if master["end"].get("timeZone"):
                inst["end"]["timeZone"] = master["end"]["timeZone"]
        inst["htmlLink"] = self._html_link(cal["id"], inst["id"])
        return inst

    def _instance_from_id(self, cal: Calendar, event_id: str) -> tuple[Event, Event] | None:
        """(master, virtual instance) for an instance id that has no exception row yet, else None."""
        parsed = parse_instance_id(event_id)
        if not parsed:
            return None
        master = self._row(cal["id"], parsed[0])
        if not master or not master.get("recurrence"):
            return None
        suffix = parsed[1]
        try:
            _dtstart, all_day, dur = master_start(master, cal["time_zone"])
            if all_day:
                target = dt.datetime.strptime(suffix, "%Y%m%d")
                lo = target.replace(tzinfo=zone(cal["time_zone"]) or UTC)
            else:
                lo = dt.datetime.strptime(suffix, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            occ, all_day, dur = occurrences(master, cal["time_zone"], window_start=lo + dur - dt.timedelta(seconds=1),
                                            window_end=lo + dt.timedelta(seconds=1))
        except (RecurrenceError, ValueError, KeyError):
            return None
        for o in occ:
            if instance_suffix(o, all_day) == suffix:
                return master, self._materialize(cal, master, o, all_day, dur)
        return None

    def _expand(self, cal: Calendar, master: Event, exceptions: dict[str, Event], tmin: dt.datetime | None,
                tmax: dt.datetime | None) -> list[Event]:
        """All instances of a master in the window, each replaced by its exception row when it has one."""
        try:
            occ, all_day, dur = occurrences(master, cal["time_zone"], window_start=tmin, window_end=tmax)
        except (RecurrenceError, ValueError, KeyError):
            return []
        out, seen = [], set()
        for o in occ:
            inst = self._materialize(cal, master, o, all_day, dur)
            seen.add(inst["id"])
            exc = exceptions.get(inst["id"])
            out.append(exc if exc is not None else inst)
        out += [exc for iid, exc in exceptions.items() if iid not in seen]
        return out

    def _series_overlaps(self, cal: Calendar, master: Event, exceptions: dict[str, Event],
                         tmin: dt.datetime | None, tmax: dt.datetime | None) -> bool:
        return any(event_overlaps(i, cal["time_zone"], tmin, tmax)
                   for i in self._expand(cal, master, exceptions, tmin, tmax))


def event_overlaps(ev: Event, tz: str, tmin: dt.datetime | None, tmax: dt.datetime | None,
                   closed: bool = False) -> bool:
    """Whether an event falls in [tmin, tmax); undated events always do (see timeutil.overlaps)."""
    if tmin is None and tmax is None:  # no window: skip parsing the times
        return True
    t = ev.get("start") or ev.get("originalStartTime")
    try:
        s, e = bound(t, tz), bound(ev.get("end") or t, tz)
    except (ValueError, KeyError, TypeError):
        return True
    return overlaps(s, e, tmin, tmax, closed)
