"""Before an appointment or a timed event is saved: who of its people is busy in Google then, and when that
day is free for all of them.

Only people who turned on "Check my Google calendars for conflicts" are asked about (`app.busy`); a
contact's busy times are therefore seen by the staff booking with them only when the contact chose so.
One free/busy answer per person and day serves the check and the free slots, and is kept briefly, so a
form sent again costs Google nothing.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from ..busy import Busy, busy_times, merged, sharing_connections
from ..models import User
from ..timefmt import to_local, to_utc, utc_days

DAY_STARTS, DAY_ENDS = time(8), time(18)  # the hours free slots are offered in (the booker's zone)
SLOT_STEP = timedelta(minutes=30)
SLOTS_OFFERED = 3


@dataclass(frozen=True)
class Conflict:
    person: User
    busy: Busy


@dataclass(frozen=True)
class Check:
    """What the form says before saving: conflicts, people whose busy times could not be known, free slots."""

    conflicts: list[Conflict]
    unavailable: list[User]
    free: list[tuple[datetime, datetime]]  # naive UTC
    fingerprint: str  # "Save anyway" holds it: a change of time or people checks again

    @property
    def warns(self) -> bool:
        return bool(self.conflicts)


def check(people: list[User], start: datetime, end: datetime, tz: str) -> Check:
    """`start`/`end` naive UTC; `tz` the booker's zone, whose day the free slots are offered in."""
    day = to_local(start, tz).date()
    day_start, day_end = utc_days(day, day, tz)
    connections = sharing_connections(people)
    conflicts, unavailable, everyone_busy = [], [], []
    for person in people:
        if person.id not in connections:
            continue
        busy = busy_times(connections[person.id], min(day_start, start), max(day_end, end))
        if busy is None:
            unavailable.append(person)
            continue
        everyone_busy += busy
        conflicts += [Conflict(person, b) for b in busy if b.start < end and b.end > start]
    free = free_slots(merged(everyone_busy, day_start, day_end), day, start, end - start, tz) if conflicts else []
    return Check(conflicts, unavailable, free, fingerprint(people, start, end))


def free_slots(busy: list[Busy], day: date, wanted: datetime, length: timedelta,
               tz: str) -> list[tuple[datetime, datetime]]:
    """Up to SLOTS_OFFERED slots of `length` within working hours of `day`, every SLOT_STEP, free for everyone:
    the next ones after the wanted start, else the day's earlier ones."""
    opens, closes = to_utc(datetime.combine(day, DAY_STARTS), tz), to_utc(datetime.combine(day, DAY_ENDS), tz)
    starts = []
    start = opens
    while start + length <= closes:
        if not any(b.start < start + length and b.end > start for b in busy):
            starts.append(start)
        start += SLOT_STEP
    later = [s for s in starts if s >= wanted]
    chosen = later[:SLOTS_OFFERED] or starts[-SLOTS_OFFERED:]
    return [(s, s + length) for s in chosen]


def fingerprint(people: list[User], start: datetime, end: datetime) -> str:
    key = f"{start.isoformat()}|{end.isoformat()}|{sorted(person.id for person in people)}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]
