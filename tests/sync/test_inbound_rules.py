"""Google is not trusted more than the portal (issue #10, findings 2 and 5; #12 point 1).

A change pulled from a user's Google Calendar passes the portal's own permission rule; values the
portal cannot hold are answered by writing the portal's value back; a deleted event is recognised by
its id through our links, not by properties Google withholds on deleted events.
"""
from __future__ import annotations

import time
from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from app.models import Event, Role, SyncHistory, Task
from tests.conftest import post_form, run_jobs
from tests.google_flow import google_user_calendar, sign_in_with_google
from tests.sync.conftest import CALENDAR, link_for, pull
from tests.sync.test_two_way import _writes
from testsupport.factories import make_items


def google_copy(google, item) -> dict:
    return next(e for e in google.events(CALENDAR) if e["id"] == link_for(item).google_event_id)


def actions(item) -> list[str]:
    return [h.action for h in db.session.scalars(sa.select(SyncHistory).where(
        SyncHistory.item_type == item.kind, SyncHistory.item_id == item.id).order_by(SyncHistory.id))]


def test_a_client_cannot_change_in_google_what_they_cannot_change_in_the_portal(connect, user, users, google,
                                                                                gcal, app, login_as):
    (appointment,) = make_items(user, appointments=1)
    event = Event(company_id=user.company_id, title="Staff briefing", created_by_id=users[Role.STAFF].id,
                  start_at=appointment.start_at, end_at=appointment.end_at, timezone="Europe/London",
                  attendees=[user, users[Role.STAFF]])
    db.session.add(event)
    db.session.commit()
    connect()
    browser = login_as(user)
    assert browser.get(f"/appointments/{appointment.id}/edit").status_code == 403
    assert browser.get(f"/events/{event.id}/edit").status_code == 403
    before = {item.ref: (item.title, item.start_at, item.end_at) for item in (appointment, event)}
    for item in (appointment, event):
        gcal.patch(calendarId=CALENDAR, eventId=link_for(item).google_event_id, body={
            "summary": "Consultation CANCELLED by client in Google",
            "start": {"dateTime": "2031-05-05T10:00:00Z"}, "end": {"dateTime": "2031-05-05T11:00:00Z"}}).execute()
    pull(app)
    db.session.expire_all()
    for item in (appointment, event):
        assert (item.title, item.start_at, item.end_at) == before[item.ref]  # not applied in the portal
        copy = google_copy(google, item)  # and undone in the client's Google
        assert copy["summary"] == item.title
        assert datetime.fromisoformat(copy["start"]["dateTime"]).replace(tzinfo=None) == item.start_at
        assert actions(item) == ["google_change_undone"]
        page = browser.get(f"/{item.kind}s/{item.id}").get_data(as_text=True)
        assert "may not make that change in the portal, so it was not allowed and was undone in Google" in page
    google.reset_counters()
    pull(app)  # converged: no echo of our own write-back, no further writes
    assert _writes(google.counters()) == 0 and run_jobs(app) == 0


def test_a_forbidden_google_edit_never_wins_a_conflict(connect, user, users, google, gcal, app):
    """Staff edit an appointment while the client edits it later in Google: the push meets Google's
    newer copy (412), and the client's change still may not win."""
    (appointment,) = make_items(user, appointments=1)
    connect()
    appointment.title = "Staff edit"
    db.session.commit()  # its push for the client's connection is queued
    time.sleep(0.01)
    gcal.patch(calendarId=CALENDAR, eventId=link_for(appointment).google_event_id,
               body={"summary": "Client edit in Google"}).execute()
    run_jobs(app)
    db.session.expire_all()
    assert appointment.title == "Staff edit" and google_copy(google, appointment)["summary"] == "Staff edit"
    assert actions(appointment) == ["google_change_undone"]


def test_a_client_may_change_in_google_what_they_created(connect, user, gcal, google, app):
    (task,) = make_items(user, tasks=1)  # created by the client
    connect()
    gcal.patch(calendarId=CALENDAR, eventId=link_for(task).google_event_id, body={"summary": "Mine to rename"}
               ).execute()
    pull(app)
    assert db.session.get(Task, task.id).title == "Mine to rename"
    assert actions(task) == ["changed_in_google"]


def test_staff_may_change_appointments_from_google_but_not_their_generated_text(users, google, app, login_as):
    staff = users[Role.STAFF]
    (appointment,) = make_items(staff, appointments=1)
    browser = login_as(staff)
    sign_in_with_google(browser, email="sam@example.com")
    post_form(browser, "/integrations/two-way/push", {"calendar_id": "sam@example.com"}, page="/integrations/")
    run_jobs(app)
    sam = google_user_calendar(google, app, "sam@example.com")
    event_id = link_for(appointment).google_event_id
    sam.patch(calendarId="sam@example.com", eventId=event_id,
              body={"summary": "Consultation (room 4)", "description": "my own notes"}).execute()
    pull(app)
    db.session.expire_all()
    assert appointment.title == "Consultation (room 4)"  # staff may rename it in the portal, so from Google too
    copy = next(e for e in google.events("sam@example.com") if e["id"] == event_id)
    assert "my own notes" not in copy["description"] and "Staff:" in copy["description"]  # the portal's text
    assert actions(appointment) == ["changed_in_google", "google_value_not_taken"]


def test_an_empty_or_too_long_google_title_is_answered_with_the_portal_title(connect, user, google, gcal, app):
    short, long = make_items(user, tasks=2)
    connect()
    gcal.patch(calendarId=CALENDAR, eventId=link_for(short).google_event_id, body={"summary": ""}).execute()
    gcal.patch(calendarId=CALENDAR, eventId=link_for(long).google_event_id, body={"summary": "x" * 3000}).execute()
    pull(app)
    db.session.expire_all()
    assert (short.title, long.title) == ("Task 0", "Task 1")  # nothing cut short, nothing emptied
    assert google_copy(google, short)["summary"] == "Task 0" and google_copy(google, long)["summary"] == "Task 1"
    assert actions(short) == actions(long) == ["google_value_not_taken"]
    google.reset_counters()
    pull(app)
    assert _writes(google.counters()) == 0 and run_jobs(app) == 0


def test_a_deleted_event_is_recognised_by_its_id_alone(connect, user, users, google, gcal, app):
    """Google sends deleted events with only id, status and etag: our links must be enough."""
    own, shared = make_items(user, tasks=2)
    shared.assignees = [user, users[Role.STAFF]]
    db.session.commit()
    connect()
    for item in (own, shared):
        event_id = link_for(item).google_event_id
        copy = gcal.get(calendarId=CALENDAR, eventId=event_id).execute()
        copy.pop("extendedProperties")  # what a strict Google shows of a deleted event: no properties
        gcal.update(calendarId=CALENDAR, eventId=event_id, body=copy).execute()
        gcal.delete(calendarId=CALENDAR, eventId=event_id).execute()
    pull(app)
    db.session.expire_all()
    assert link_for(own) is None and link_for(shared) is None
    assert own.deleted_at is not None and shared.deleted_at is None
    assert actions(own) == ["trashed_after_google_delete"] and actions(shared) == ["unlinked_after_google_delete"]
