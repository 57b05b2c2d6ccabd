"""Property: whatever another app writes into the synced calendar comes in, and never stalls a pull.

Google accepts far more than our own pushes ever send: ids chosen by the writer (5 to 1,024 characters),
very long titles and places, recurrences, and private properties copied from our events or made up. Each
of those once failed every later pull of its connection (a copy of ours broke the link's unique key; a long
id overflowed a column on PostgreSQL). Through the real worker, Redis, client library and emulator.
"""
from __future__ import annotations

import itertools
from datetime import timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.extensions import db
from app.models import GoogleEvent, SyncRun, Task
from app.sync.mapping import CONNECTION_KEY, REF_KEY, portal_ref
from tests.conftest import run_jobs
from tests.sync.conftest import CALENDAR, STACK_EXAMPLES, link_for, pull
from tests.sync.test_convergence_properties import TEXT, days, google_titles, instants, texts
from tests.sync.test_two_way import _writes
from testsupport.factories import make_items

ID_LENGTHS = st.one_of(st.sampled_from([5, 255, 256, 1024]), st.integers(min_value=5, max_value=1024))
ID_PATTERNS = st.text("abcdefghijklmnopqrstuv0123456789", min_size=1, max_size=16)
UNIQUE = st.builds(itertools.count().__next__)


@st.composite
def foreign_events(draw, connection_id: int, item_ids: list[int]) -> dict:
    """An event another app may insert: its own id or none, any text, any time, maybe a recurrence, and maybe
    private properties that name one of our items (copied) or nothing real (made up)."""
    body: dict = {"summary": draw(google_titles), "description": draw(texts),
                  "location": draw(st.text(TEXT, max_size=1200))}
    if draw(st.booleans()):
        length, pattern = draw(ID_LENGTHS), draw(ID_PATTERNS)  # ends in a number Google has not seen yet
        body["id"] = (pattern * length)[:max(0, length - 6)] + f"v{draw(UNIQUE):05d}"
    if draw(st.booleans()):
        first = draw(days)
        body["start"] = {"date": first.isoformat()}
        body["end"] = {"date": (first + timedelta(days=draw(st.integers(1, 5)))).isoformat()}
    else:
        start, zone = draw(instants())
        end = start + timedelta(minutes=draw(st.integers(min_value=15, max_value=48 * 60)))
        body["start"] = {"dateTime": start.isoformat() + "Z", "timeZone": zone}
        body["end"] = {"dateTime": end.isoformat() + "Z", "timeZone": zone}
    if draw(st.booleans()):
        body["recurrence"] = [f"RRULE:FREQ=WEEKLY;COUNT={draw(st.integers(1, 3))}"]
    ref = draw(st.one_of(st.none(), st.sampled_from(item_ids).map(lambda i: f"task:{i}"),
                         st.integers(min_value=10**6, max_value=10**30).map(lambda i: f"task:{i}"),
                         st.text(TEXT, max_size=40)))
    if ref is not None:
        body["extendedProperties"] = {"private": {REF_KEY: ref, CONNECTION_KEY: str(connection_id)}}
    return body


def last_run() -> SyncRun:
    return db.session.scalar(sa.select(SyncRun).order_by(SyncRun.id.desc()))


@given(data=st.data())
@settings(max_examples=STACK_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
def test_whatever_another_app_writes_comes_in_and_never_stalls_a_pull(data, connect, user, google, gcal, app,
                                                                      login_as):
    connection = getattr(app, "_foreign_connection", None)
    if connection is None:  # one connection for all examples: each example adds its own events
        google.set_quota(per_user_per_minute=0)  # the other app's writes are not ours to pace (limits: elsewhere)
        make_items(user, tasks=2)
        connection = app._foreign_connection = connect()
    tasks = db.session.scalars(sa.select(Task).order_by(Task.id)).all()
    links = {task.id: link_for(task).google_event_id for task in tasks}
    bodies = data.draw(st.lists(foreign_events(connection.id, list(links)), min_size=1, max_size=3), "events")
    inserted = [gcal.insert(calendarId=CALENDAR, body=body).execute() for body in bodies]
    edited = tasks[0]
    gcal.patch(calendarId=CALENDAR, eventId=links[edited.id], body={"summary": f"Edited {len(inserted)}"}).execute()
    pull(app)

    assert last_run().status == "succeeded", last_run().outcome
    assert db.session.get(Task, edited.id).title == f"Edited {len(inserted)}"  # Google's other changes came in
    assert {task.id: link_for(task).google_event_id for task in tasks} == links  # our events stay ours
    rows = db.session.scalars(sa.select(GoogleEvent)).all()
    for body, event in zip(bodies, inserted, strict=True):
        made_up = portal_ref(event) is not None  # a claim to be one of ours: never shown twice, never taken in
        shown = [row for row in rows if event["id"] in (row.google_event_id, row.recurring_event_id)]
        assert bool(shown) is not made_up, (body, event["id"])
        if shown:
            assert {row.summary for row in shown} == {(event.get("summary") or "(No title)")[:500]}
    first_day = bodies[0]["start"].get("date") or bodies[0]["start"]["dateTime"][:10]
    assert login_as(user).get(f"/calendar/?view=month&date={first_day}").status_code == 200

    google.reset_counters()
    pull(app)  # taken in once: the next pull lists nothing new, writes nothing, leaves nothing queued
    assert last_run().status == "succeeded", last_run().outcome
    assert _writes(google.counters()) == 0
    assert run_jobs(app) == 0
