"""Portal item ⇄ Google event, both ways, and the canonical form that echo suppression hashes.

All-day: the portal keeps an inclusive end date, Google an exclusive one (end.date = last day + 1).
Timed: the portal keeps naive UTC; Google gets an RFC 3339 instant plus the item's time zone.
A task without a due date has no place in a calendar: it is deliberately not pushed (`NotPushable`).
Google values the portal cannot hold (an empty title, text over the portal's limits) are not taken:
the caller sees the difference and writes the portal's value back, so both sides always agree.
"""
from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, date, datetime, timedelta

from ..models import ITEM_MODELS, Appointment, CalendarConnection, Event, Task
from ..models.items import VIDEO_LINK, VIDEO_MEET, PortalItem
from ..timefmt import zone

REF_KEY = "portalRef"  # "task:12"
CONNECTION_KEY = "portalConnection"
TASK_DEFAULT_MINUTES = 30
NO_DUE_DATE = "it has no due date. Give it one to see it in Google Calendar."
# The portal's own limits (the forms'); a longer value from Google is not taken, the portal's is written back.
LIMITS = {"title": 200, "notes": 5000, "description": 5000, "location": 255}


class NotPushable(Exception):
    """An item that deliberately has no Google copy; the message says why, in plain words."""


def event_id_for(connection: CalendarConnection, item_type: str, item_id: int) -> str:
    """Deterministic base32hex id, so every retry of an insert is idempotent (409, never a duplicate).

    It names what the connection syncs into (tenant, portal user, Google calendar) rather than the row's
    id, so switching from 1-way to 2-way or reconnecting to the same calendar finds the copies already
    there instead of adding a second set.
    """
    target = f"{connection.company_id}:{connection.user_id}:{connection.calendar_id}"
    digest = hashlib.sha256(f"{target}:{item_type}:{item_id}".encode()).digest()
    return "p" + base64.b32hexencode(digest[:20]).decode().lower()


def _timed(value: datetime, tz_name: str) -> dict:
    return {"dateTime": value.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z"), "timeZone": tz_name}


def _all_day(first: date, last: date) -> tuple[dict, dict]:
    return {"date": first.isoformat()}, {"date": (last + timedelta(days=1)).isoformat()}


def item_times(item: PortalItem) -> tuple[dict, dict]:
    if isinstance(item, Task):
        if item.due_at is None and item.due_date is None:
            raise NotPushable(NO_DUE_DATE)
        if item.due_at is None:
            return _all_day(item.due_date, item.due_date)
        tz = item.assignees[0].timezone if item.assignees else "UTC"
        return _timed(item.due_at, tz), _timed(item.due_at + timedelta(minutes=TASK_DEFAULT_MINUTES), tz)
    if isinstance(item, Event) and item.all_day:
        return _all_day(item.start_date, item.end_date)
    return _timed(item.start_at, item.timezone), _timed(item.end_at, item.timezone)


def item_description(item: PortalItem) -> str:
    if isinstance(item, Task):
        return item.notes or ""
    if isinstance(item, Event):
        return item.description or ""
    lines = [f"Staff: {item.staff.name} <{item.staff.email}>", f"Contact: {item.contact.name} <{item.contact.email}>"]
    if item.video_choice == VIDEO_LINK:  # a Meet is Google's conference on the event, not text
        lines.append(f"Meeting link: {item.meeting_link}")
    return "\n".join(lines)


def meet_request_id(item: Appointment) -> str:
    """The same for every push of one appointment (tenant + appointment), so Google creates its Meet once."""
    return "pcs" + hashlib.sha256(f"{item.company_id}:appointment:{item.id}".encode()).hexdigest()[:40]


def conference_data(connection: CalendarConnection, item: Appointment) -> dict | None:
    """The Meet of the appointment's Google copy: the stored one, a request to create it, or None (none, or a
    link of its own: the body then carries an explicit null, which removes a Meet the copy had).

    Only a 2-way connection asks Google to create one; every other copy carries the stored conference.
    """
    if item.video_choice != VIDEO_MEET:
        return None
    if item.meet_conference:
        return item.meet_conference
    if connection.pulls:
        return {"createRequest": {"requestId": meet_request_id(item),
                                  "conferenceSolutionKey": {"type": "hangoutsMeet"}}}
    return None


def asks_for_meet(body: dict) -> bool:
    return "createRequest" in (body.get("conferenceData") or {})


def meet_from_event(event: dict) -> tuple[str, dict] | None:
    """(link, conferenceData to copy) of a Google event that has a ready Meet."""
    data = event.get("conferenceData") or {}
    status = ((data.get("createRequest") or {}).get("status") or {}).get("statusCode", "success")
    video = next((p.get("uri", "") for p in data.get("entryPoints") or () if p.get("entryPointType") == "video"), "")
    if status != "success" or not video.startswith("https://"):
        return None  # still pending at Google: the next push asks again with the same requestId
    shared = {key: data[key] for key in ("conferenceId", "conferenceSolution", "entryPoints") if key in data}
    return event.get("hangoutLink") or video, shared


def event_body(connection: CalendarConnection, item: PortalItem) -> dict:
    start, end = item_times(item)
    location = item.location if isinstance(item, (Event, Appointment)) else ""
    if isinstance(item, Appointment) and not location and item.video_choice == VIDEO_LINK:
        location = item.meeting_link
    body = {
        "summary": item.title,
        "description": item_description(item),
        "location": location,
        "start": start,
        "end": end,
        "status": "confirmed",
        "extendedProperties": {"private": {REF_KEY: item.ref, CONNECTION_KEY: str(connection.id)}},
    }
    if isinstance(item, Appointment):
        body["conferenceData"] = conference_data(connection, item)
    return body


def _canonical_time(value: dict | None) -> str:
    if not value:
        return ""
    if "date" in value:
        return value["date"]  # the string itself, not re-parsed: stored hashes depend on these exact bytes
    return parse_google_time(value)[1].strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical(event: dict) -> dict[str, str]:
    """What we sync (title, text, place, times, and the Meet once it exists), equal for our body and Google's
    copy of it. The conference is named only when there is one, so the hash of every other event is as before."""
    synced = {"summary": event.get("summary") or "", "description": event.get("description") or "",
              "location": event.get("location") or "", "start": _canonical_time(event.get("start")),
              "end": _canonical_time(event.get("end"))}
    conference = (event.get("conferenceData") or {}).get("conferenceId")
    return {**synced, "conference": conference} if conference else synced


def content_hash(event: dict) -> str:
    """Stored per link; its bytes must never change for the same content, or every link looks edited."""
    return hashlib.sha256(json.dumps(canonical(event), sort_keys=True).encode()).hexdigest()


def differing_fields(google: dict, ours: dict) -> list[str]:
    """The synced fields where Google's event and our body disagree, by their portal names."""
    theirs, mine = canonical(google), canonical(ours)
    names = {"summary": "title", "description": "description", "location": "location", "start": "start",
             "end": "end"}
    return [names[key] for key in theirs if theirs[key] != mine[key]]


def portal_ref(event: dict) -> tuple[str, int, int] | None:
    """(item_type, item_id, connection_id) when the event is one we pushed."""
    private = (event.get("extendedProperties") or {}).get("private") or {}
    ref, connection = private.get(REF_KEY, ""), private.get(CONNECTION_KEY, "")
    kind, _, item_id = ref.partition(":")
    if kind in ITEM_MODELS and item_id.isdigit() and connection.isdigit():
        return kind, int(item_id), int(connection)
    return None


def parse_google_time(value: dict) -> tuple[bool, datetime | date]:
    """(all_day, value): a date for all-day, naive UTC for timed."""
    if "date" in value:
        return True, date.fromisoformat(value["date"])
    instant = datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00"))
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=zone(value.get("timeZone")))
    return False, instant.astimezone(UTC).replace(tzinfo=None)


def event_span(event: dict) -> tuple[bool, datetime | date, datetime | date]:
    """(all_day, start, end) with an inclusive end date for all-day events."""
    all_day, start = parse_google_time(event["start"])
    _, end = parse_google_time(event["end"])
    if all_day:
        end = max(start, end - timedelta(days=1))
    return all_day, start, end


def snapshot(item: PortalItem) -> dict:
    """The synced fields of an item, for the sync history (the version that lost a conflict)."""
    try:
        start, end = item_times(item)
    except NotPushable:
        start = end = None
    return {"title": item.title, "description": item_description(item),
            "location": getattr(item, "location", ""), "start": start, "end": end}


def apply_event_to_item(event: dict, item: PortalItem) -> dict[str, list]:
    """Copy Google's edit onto the item; returns {field: [before, after]} of what changed, JSON-ready.

    Values the portal cannot hold are not taken (nothing is cut short): the item keeps its own, and the
    caller writes it back to Google.
    """
    changes: dict = {"title": _fitting(item, "title", (event.get("summary") or "").strip())}
    all_day, start, end = event_span(event)
    text = event.get("description") or ""
    if isinstance(item, Task):
        changes["notes"] = _fitting(item, "notes", text)
        changes.update(due_date=start, due_at=None) if all_day else changes.update(due_at=start, due_date=None)
    elif isinstance(item, Event):
        changes.update(description=_fitting(item, "description", text),
                       location=_fitting(item, "location", event.get("location") or ""), all_day=all_day)
        if all_day:
            changes.update(start_date=start, end_date=end, start_at=None, end_at=None)
        else:
            changes.update(start_at=start, end_at=end, start_date=None, end_date=None)
    elif isinstance(item, Appointment):
        changes["location"] = _fitting(item, "location", event.get("location") or "")
        if changes["location"] == item.meeting_link:
            changes["location"] = item.location
        if not all_day:  # an appointment is always timed; a switch to all-day in Google keeps our times
            changes.update(start_at=start, end_at=end)
    changed = {name: [_plain(getattr(item, name)), _plain(value)]
               for name, value in changes.items() if getattr(item, name) != value}
    for name in changed:
        setattr(item, name, changes[name])
    return changed


def _fitting(item: PortalItem, name: str, value: str) -> str:
    """Google's value when the portal can hold it; else the item's own (a title is never empty)."""
    if len(value) > LIMITS[name] or (name == "title" and not value):
        return getattr(item, name)
    return value


def _plain(value):
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def google_timestamp(value: str | None) -> datetime | None:
    """Google's `updated` stamp (RFC 3339, UTC) as naive UTC, like the portal's own times."""
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)
