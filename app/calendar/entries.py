"""What the calendar page draws: the user's own items and their Google events for a range of days.

One query per kind for the whole range (no per-day or per-row queries); timed entries are
converted to the viewer's time zone here, so the template only places them on days.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from ..busy import busy_in_other_calendars, sharing_connections
from ..extensions import db
from ..models import Appointment, CalendarConnection, Event, EventLink, GoogleEvent, SyncHistory, Task, User
from ..portal.kinds import item_url, span
from ..portal.queries import participant_items_between, timed_or_all_day_on
from ..timefmt import to_local, utc_days

DELETED_IN_GOOGLE = "unlinked_after_google_delete"


@dataclass(frozen=True)
class CalendarEntry:
    """One thing drawn on a calendar day: a portal item or a Google event."""

    kind: str  # task | event | appointment | google | busy
    title: str
    all_day: bool
    start: datetime | date
    end: datetime | date  # inclusive date for all-day entries
    url: str | None = None
    location: str = ""
    item_ref: str = ""  # "task:12" for portal items
    when: str = ""  # the time span in words, for the Google event's detail view
    description: str = ""
    deleted_in_google: bool = False  # the user deleted its copy in Google: the item is kept here, unlinked

    @property
    def start_day(self) -> date:
        return self.start if not isinstance(self.start, datetime) else self.start.date()


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def local_span(row: Event | GoogleEvent, tz: str) -> tuple[datetime | date, datetime | date]:
    """Start and end as drawn: all-day dates as they are (a missing end is the start day), times in `tz`."""
    if row.all_day:
        return row.start_date, row.end_date or row.start_date
    return to_local(row.start_at, tz), to_local(row.end_at or row.start_at, tz)


def item_entries(user: User, first: date, last: date, start_utc: datetime, end_utc: datetime) -> list[CalendarEntry]:
    tz = user.timezone
    entries = []
    for task in db.session.scalars(participant_items_between(user, Task, first, last, start_utc, end_utc)):
        due = to_local(task.due_at, tz) or task.due_date
        title = ("✓ " if task.done else "") + task.title
        entries.append(CalendarEntry("task", title, task.all_day, due, due, item_url(task), item_ref=task.ref))
    for event in db.session.scalars(participant_items_between(user, Event, first, last, start_utc, end_utc)):
        start, end = local_span(event, tz)
        entries.append(CalendarEntry("event", event.title, event.all_day, start, end, item_url(event), event.location,
                                     item_ref=event.ref))
    for appt in db.session.scalars(participant_items_between(user, Appointment, first, last, start_utc, end_utc)):
        entries.append(CalendarEntry("appointment", appt.title, False, to_local(appt.start_at, tz),
                                     to_local(appt.end_at, tz), item_url(appt), appt.location, item_ref=appt.ref))
    return entries


def deleted_in_google(user: User, entries: list[CalendarEntry]) -> set[str]:
    """Refs of shown items whose Google copy this user deleted and that are not in their Google calendar now
    (one query: the latest word on them is the unlink, and no link of the user's connections came back)."""
    refs = {entry.item_ref for entry in entries if entry.item_ref}
    if not refs:
        return set()
    pairs = [tuple(ref.split(":")) for ref in refs]
    relinked = sa.exists().where(
        EventLink.item_type == SyncHistory.item_type, EventLink.item_id == SyncHistory.item_id,
        EventLink.connection_id == CalendarConnection.id, CalendarConnection.user_id == user.id)
    rows = db.session.execute(sa.select(SyncHistory.item_type, SyncHistory.item_id).where(
        SyncHistory.company_id == user.company_id, SyncHistory.user_id == user.id,
        SyncHistory.action == DELETED_IN_GOOGLE, ~relinked,
        sa.tuple_(SyncHistory.item_type, SyncHistory.item_id).in_([(kind, int(i)) for kind, i in pairs])))
    return {f"{kind}:{item_id}" for kind, item_id in rows}


def google_entries(user: User, first: date, last: date, start_utc: datetime, end_utc: datetime) -> list[CalendarEntry]:
    """Google-native events stored for the user's own connections (only live ones are stored)."""
    query = sa.select(GoogleEvent).join(CalendarConnection, GoogleEvent.connection_id == CalendarConnection.id).where(
        CalendarConnection.user_id == user.id, GoogleEvent.company_id == user.company_id,
        timed_or_all_day_on(GoogleEvent, first, last, start_utc, end_utc))
    entries = []
    for row in db.session.scalars(query):
        start, end = local_span(row, user.timezone)
        link = row.html_link if row.html_link.startswith(("https://", "http://")) else None
        when = span(start, end if end != start else None, user.timezone) if row.all_day else \
            span(row.start_at, row.end_at or row.start_at, user.timezone)
        entries.append(CalendarEntry("google", row.summary or "(No title)", row.all_day, start, end, link,
                                     row.location, when=when + (" (all day)" if row.all_day else ""),
                                     description=row.description))
    return entries


def days_covered(entry: CalendarEntry) -> list[date]:
    """Every local day an entry appears on: all-day ends are inclusive, a timed end at midnight is not."""
    first = entry.start_day
    if entry.all_day:
        last = entry.end if not isinstance(entry.end, datetime) else entry.end.date()
    else:
        last = (entry.end - timedelta(microseconds=1)).date() if entry.end > entry.start else first
    return [first + timedelta(days=n) for n in range((last - first).days + 1)] if last >= first else [first]


def sort_key(entry: CalendarEntry) -> tuple:
    """All-day entries first, then by start time, then by title."""
    start = entry.start.time() if isinstance(entry.start, datetime) else time()
    return (not entry.all_day, start, entry.title.lower())


def busy_entries(user: User, first: date, last: date) -> tuple[list[CalendarEntry], bool]:
    """The user's own "Busy in Google" blocks (unlabelled), and whether they could not be known just now."""
    connection = sharing_connections([user]).get(user.id)
    if connection is None:
        return [], False
    busy = busy_in_other_calendars(connection, *utc_days(first, last, user.timezone))
    if busy is None:
        return [], True
    return [CalendarEntry("busy", "Busy in Google", False, to_local(b.start, user.timezone),
                          to_local(b.end, user.timezone)) for b in busy], False


def entries_by_day(user: User, first: date, last: date,
                   more: list[CalendarEntry] = ()) -> dict[date, list[CalendarEntry]]:
    """Every entry on the days it covers, sorted; `more` adds entries made elsewhere (busy blocks)."""
    start_utc, end_utc = utc_days(first, last, user.timezone)
    by_day: dict[date, list[CalendarEntry]] = defaultdict(list)
    items = item_entries(user, first, last, start_utc, end_utc)
    gone = deleted_in_google(user, items)
    items = [replace(entry, deleted_in_google=True) if entry.item_ref in gone else entry for entry in items]
    entries = items + google_entries(user, first, last, start_utc, end_utc) + list(more)
    for entry in sorted(entries, key=sort_key):
        for day in days_covered(entry):
            if first <= day <= last:
                by_day[day].append(entry)
    return by_day
