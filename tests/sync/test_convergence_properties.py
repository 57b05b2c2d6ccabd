"""Property: after any edit on either side and one sync cycle, portal and Google agree, and stay quiet.

Through the real stack: the RQ worker, Redis, google-api-python-client and the emulator. Hypothesis
draws items of every shape the forms accept (timed, all-day, multi-day, undated, DST edges, several
time-zone families, unicode, maximum lengths) and edits on the portal side, the Google side or both.
After one cycle the synced fields agree (or the item is deliberately not in Google: an undated task),
and a further cycle makes no write and leaves no job: no loops.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.extensions import db
from app.models import Appointment, CalendarConnection, Event, FailureKind, Role, SyncFailure, Task
from app.sync.mapping import NotPushable, canonical, event_body
from app.timefmt import to_utc
from tests.conftest import run_jobs
from tests.sync.conftest import CALENDAR, STACK_EXAMPLES, link_for, pull
from tests.sync.test_two_way import _writes

ZONES = ["UTC", "Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham",
         "America/St_Johns", "Asia/Kathmandu"]
# Local wall-clock times on or next to DST changes (gaps and repeated hours), with their zone.
DST_EDGES = [("2030-03-31T01:30", "Europe/London"), ("2030-10-27T01:30", "Europe/London"),
             ("2030-03-10T02:30", "America/New_York"), ("2030-11-03T01:30", "America/New_York"),
             ("2030-10-06T02:15", "Australia/Lord_Howe"), ("2030-04-07T01:45", "Australia/Lord_Howe"),
             ("2030-09-29T02:45", "Pacific/Chatham")]
TEXT = st.characters(blacklist_categories=("Cs", "Cc"))
titles = st.text(TEXT, min_size=1, max_size=200).map(str.strip).filter(bool)
google_titles = st.one_of(titles, st.just(""), st.just("  padded  "), st.text(TEXT, min_size=201, max_size=3000))
texts = st.text(TEXT, max_size=400)
days = st.dates(min_value=date(2026, 1, 1), max_value=date(2040, 12, 1))


@st.composite
def instants(draw) -> tuple[datetime, str]:
    """A naive UTC instant and the zone it was entered in: anywhere, or on a DST edge."""
    if draw(st.booleans()):
        local, zone = draw(st.sampled_from(DST_EDGES))
        return to_utc(datetime.fromisoformat(local), zone), zone
    zone = draw(st.sampled_from(ZONES))
    day = draw(days)
    minutes = draw(st.integers(min_value=0, max_value=24 * 4 - 1)) * 15
    return to_utc(datetime.combine(day, datetime.min.time()) + timedelta(minutes=minutes), zone), zone


@st.composite
def shapes(draw) -> dict:
    """What a form could save: kind, title and times."""
    kind = draw(st.sampled_from(["task", "event", "appointment"]))
    shape: dict = {"kind": kind, "title": draw(titles), "text": draw(texts)}
    start, zone = draw(instants())
    length = timedelta(minutes=draw(st.integers(min_value=15, max_value=3 * 24 * 60)))
    if kind == "task":
        when = draw(st.sampled_from(["timed", "all_day", "undated"]))
        shape.update(due_at=start if when == "timed" else None,
                     due_date=start.date() if when == "all_day" else None)
    elif kind == "event" and draw(st.booleans()):
        first = draw(days)
        shape.update(all_day=True, start_date=first, end_date=first + timedelta(days=draw(st.integers(0, 9))),
                     start_at=None, end_at=None, timezone=zone)
    else:
        length = min(length, timedelta(hours=24)) if kind == "appointment" else length
        shape.update(all_day=False, start_at=start, end_at=start + length, timezone=zone)
    return shape


@st.composite
def google_edits(draw) -> dict:
    """A patch a person could make in Google Calendar: title, text, place and/or times."""
    body: dict = {}
    if draw(st.booleans()):
        body["summary"] = draw(google_titles)
    if draw(st.booleans()):
        body["description"] = draw(texts)
    if draw(st.booleans()):
        body["location"] = draw(st.text(TEXT, max_size=300))
    if draw(st.booleans()) or not body:
        if draw(st.booleans()):
            first = draw(days)
            body["start"] = {"date": first.isoformat()}
            body["end"] = {"date": (first + timedelta(days=draw(st.integers(1, 5)))).isoformat()}
        else:
            start, zone = draw(instants())
            end = start + timedelta(minutes=draw(st.integers(min_value=15, max_value=48 * 60)))
            body["start"] = {"dateTime": start.isoformat() + "Z", "timeZone": zone}
            body["end"] = {"dateTime": end.isoformat() + "Z", "timeZone": zone}
    return body


def create(shape: dict, client, staff):
    common = {"company_id": client.company_id, "title": shape["title"]}
    if shape["kind"] == "task":
        item = Task(**common, notes=shape["text"], due_at=shape["due_at"], due_date=shape["due_date"],
                    created_by_id=client.id, assignees=[client])
    elif shape["kind"] == "event":
        item = Event(**common, description=shape["text"], all_day=shape["all_day"], start_at=shape["start_at"],
                     end_at=shape["end_at"], start_date=shape.get("start_date"), end_date=shape.get("end_date"),
                     timezone=shape["timezone"], created_by_id=client.id, attendees=[client])
    else:
        item = Appointment(**common, start_at=shape["start_at"], end_at=shape["end_at"], timezone=shape["timezone"],
                           staff_id=staff.id, contact_id=client.id, created_by_id=staff.id)
    db.session.add(item)
    return item


def edit_in_portal(item, shape: dict) -> None:
    """The item takes the other shape's title and times, as its form would save them."""
    item.title = shape["title"]
    if isinstance(item, Task):
        item.due_at, item.due_date = (shape["due_at"], shape["due_date"]) if shape["kind"] == "task" else (
            shape.get("start_at") or None, shape.get("start_date") if not shape.get("start_at") else None)
        if item.due_at is None and item.due_date is None and shape["kind"] != "task":
            item.due_date = date(2031, 1, 1)
    elif shape.get("start_at") is not None:
        if isinstance(item, Event):
            item.all_day, item.start_date, item.end_date = False, None, None
        item.start_at, item.end_at = shape["start_at"], min(shape["end_at"], shape["start_at"] + timedelta(hours=24))
    elif isinstance(item, Event) and shape.get("start_date"):
        item.all_day, item.start_at, item.end_at = True, None, None
        item.start_date, item.end_date = shape["start_date"], shape["end_date"]


def assert_converged(google, connection: CalendarConnection, item) -> None:
    db.session.expire_all()
    item = db.session.get(type(item), item.id)
    link = link_for(item)
    try:
        ours = event_body(connection, item)
    except NotPushable:  # an undated task: deliberately not in Google, and the user is told
        assert link is None
        failure = db.session.scalar(sa.select(SyncFailure).where(SyncFailure.item_id == item.id,
                                                                 SyncFailure.item_type == "task"))
        assert failure is not None and failure.kind is FailureKind.NOT_SYNCED
        return
    assert link is not None, item
    copy = next(e for e in google.events(CALENDAR) if e["id"] == link.google_event_id)
    assert copy.get("status") == "confirmed"
    assert canonical(copy) == canonical(ours)


@given(data=st.data())
@settings(max_examples=STACK_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
def test_both_sides_agree_after_one_cycle_and_stay_quiet(data, connect, user, users, google, gcal, app):
    connection = getattr(app, "_property_connection", None)
    if connection is None:  # one connection for all examples: each example adds its own item
        connection = app._property_connection = connect()
    item = create(data.draw(shapes(), "item"), user, users[Role.STAFF])
    db.session.commit()
    run_jobs(app)
    assert_converged(google, connection, item)

    for _ in range(data.draw(st.integers(min_value=1, max_value=2), "rounds")):
        side = data.draw(st.sampled_from(["portal", "google", "both"]), "side")
        if side in ("portal", "both"):
            edit_in_portal(item, data.draw(shapes(), "portal edit"))
            db.session.commit()
        link = link_for(item)
        if side in ("google", "both") and link is not None:
            gcal.patch(calendarId=CALENDAR, eventId=link.google_event_id,
                       body=data.draw(google_edits(), "google edit")).execute()
        pull(app)  # one cycle: the scheduled push, the pull, and any write-back it queues
        assert_converged(google, connection, item)

    google.reset_counters()
    pull(app)  # converged: only the incremental list, no write, nothing left queued
    counters = google.counters()
    assert _writes(counters) == 0, counters
    assert run_jobs(app) == 0
