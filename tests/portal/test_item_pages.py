"""Creating, editing and reading items: times are entered and shown in people's own zones and
stored as UTC; the detail page shows what sync did to the item."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa

from app.extensions import db
from app.models import Appointment, Event, Role, SyncHistory, Task
from tests.conftest import post_form


def test_a_timed_task_is_due_in_the_users_time_zone(users, login_as):
    staff = users[Role.STAFF]  # Europe/London: 09:30 in July is 08:30 UTC
    client = login_as(staff)
    response = post_form(client, "/tasks/new", {"title": "Call back", "due_date": "2030-07-01", "due_time": "09:30",
                                                "assignees": [staff.id]})
    assert response.status_code == 302
    task = db.session.scalar(sa.select(Task))
    assert task.due_at == datetime(2030, 7, 1, 8, 30) and task.due_date is None
    assert task.created_by_id == staff.id
    assert response.headers["Location"] == f"/tasks/{task.id}"
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Mon 01 Jul 2030, 09:30" in page
    edit = client.get(f"/tasks/{task.id}/edit").get_data(as_text=True)
    assert 'value="09:30"' in edit and 'value="2030-07-01"' in edit


def test_an_all_day_task_keeps_its_date(users, login_as):
    client = login_as(users[Role.STAFF])
    post_form(client, "/tasks/new", {"title": "File return", "due_date": "2030-01-31", "done": "y"})
    task = db.session.scalar(sa.select(Task))
    assert (task.due_date, task.due_at, task.done, task.assignees) == (date(2030, 1, 31), None, True, [])


def test_a_timed_event_is_stored_as_utc_from_its_own_time_zone(users, login_as):
    staff, client_user = users[Role.STAFF], users[Role.CLIENT]
    client = login_as(staff)
    response = post_form(client, "/events/new", {
        "title": "Webinar", "location": "Online", "start_date": "2030-01-15", "start_time": "18:00",
        "end_time": "19:30", "timezone": "America/New_York", "attendees": [staff.id, client_user.id]})
    assert response.status_code == 302
    event = db.session.scalar(sa.select(Event))
    assert (event.start_at, event.end_at) == (datetime(2030, 1, 15, 23, 0), datetime(2030, 1, 16, 0, 30))
    assert event.timezone == "America/New_York" and not event.all_day
    assert {u.id for u in event.attendees} == {staff.id, client_user.id}
    # The viewer (Europe/London) sees their own local times; the edit form shows the event's own zone.
    assert "Tue 15 Jan 2030, 23:00 – Wed 16 Jan 2030, 00:30" in client.get(f"/events/{event.id}").get_data(as_text=True)
    edit = client.get(f"/events/{event.id}/edit").get_data(as_text=True)
    assert 'value="18:00"' in edit and 'selected value="America/New_York"' in edit


def test_an_event_in_a_zone_the_picker_leaves_out_can_still_be_edited(acme, users, login_as, make_event):
    staff = users[Role.STAFF]
    event = make_event(acme, [staff], title="From Google")
    event.timezone = "GMT"  # a real zone, e.g. set by a pull from Google, but not in the Region/City list
    db.session.commit()
    client = login_as(staff)
    assert 'selected value="GMT"' in client.get(f"/events/{event.id}/edit").get_data(as_text=True)
    response = post_form(client, f"/events/{event.id}/edit", {
        "title": "Renamed", "start_date": "2030-01-15", "start_time": "10:00", "end_time": "11:00", "timezone": "GMT"})
    assert response.status_code == 302
    db.session.expire_all()
    assert (event.title, event.timezone, event.start_at) == ("Renamed", "GMT", datetime(2030, 1, 15, 10))


def test_an_all_day_event_spans_inclusive_dates(users, login_as):
    client = login_as(users[Role.STAFF])
    post_form(client, "/events/new", {"title": "Conference", "all_day": "y", "start_date": "2030-03-04",
                                      "end_date": "2030-03-06", "timezone": "Europe/London"})
    post_form(client, "/events/new", {"title": "Closed", "all_day": "y", "start_date": "2030-03-09",
                                      "timezone": "Europe/London"})
    conference, closed = db.session.scalars(sa.select(Event).order_by(Event.id))
    assert (conference.start_date, conference.end_date) == (date(2030, 3, 4), date(2030, 3, 6))
    assert conference.start_at is None
    assert closed.end_date == closed.start_date == date(2030, 3, 9)


def test_an_appointment_can_end_the_next_day(users, login_as):
    staff, client_user = users[Role.STAFF], users[Role.CLIENT]
    client = login_as(staff)
    response = post_form(client, "/appointments/new", {
        "title": "Night call", "start_date": "2030-01-10", "start_time": "23:00", "end_date": "2030-01-11",
        "end_time": "00:30", "timezone": "UTC", "staff": staff.id, "contact": client_user.id,
        "meeting_link": "https://meet.example.com/abc"})
    assert response.status_code == 302
    appointment = db.session.scalar(sa.select(Appointment))
    assert (appointment.start_at, appointment.end_at) == (datetime(2030, 1, 10, 23), datetime(2030, 1, 11, 0, 30))
    assert appointment.staff_id == staff.id and appointment.contact_id == client_user.id


def test_editing_changes_the_item_and_redirects_to_it(acme, users, login_as, make_event):
    staff = users[Role.STAFF]
    event = make_event(acme, [staff], title="Old title")
    client = login_as(staff)
    response = post_form(client, f"/events/{event.id}/edit", {
        "title": "New title", "all_day": "y", "start_date": "2030-06-01", "timezone": "Europe/London",
        "attendees": [staff.id, users[Role.CLIENT].id]})
    assert response.status_code == 302 and response.headers["Location"] == f"/events/{event.id}"
    db.session.expire_all()
    assert (event.title, event.all_day, event.start_at, event.start_date) == ("New title", True, None, date(2030, 6, 1))
    assert len(event.attendees) == 2
    assert "New title" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_the_new_form_starts_with_the_creator_and_their_time_zone(users, login_as):
    client = login_as(users[Role.STAFF])
    html = client.get("/events/new").get_data(as_text=True)
    assert f'selected value="{users[Role.STAFF].id}"' in html
    assert 'selected value="Europe/London"' in html


def test_the_detail_page_shows_the_sync_history_newest_first(acme, users, login_as, make_task):
    staff = users[Role.STAFF]
    task = make_task(acme, [staff], title="B")
    db.session.add_all([
        SyncHistory(company_id=acme.id, item_type="task", item_id=task.id, user_id=staff.id,
                    action="changed_in_google", detail={"changes": {"title": ["A", "B"]}},
                    created_at=datetime(2030, 1, 2, 10)),
        SyncHistory(company_id=acme.id, item_type="task", item_id=task.id, user_id=staff.id,
                    action="changed_in_google", detail={"fields": ["title", "notes"], "before": {"title": "Old"}},
                    created_at=datetime(2030, 1, 2, 11)),
        SyncHistory(company_id=acme.id, item_type="task", item_id=task.id, user_id=None, action="conflict_google_won",
                    detail={"lost": {"title": "Z"}}, created_at=datetime(2030, 1, 3, 10)),
        SyncHistory(company_id=acme.id, item_type="event", item_id=task.id, action="pulled", detail={"x": 1}),
    ])
    db.session.commit()
    html = login_as(staff).get(f"/tasks/{task.id}").get_data(as_text=True)
    history = html.split('id="sync-history"')[1]
    assert "Changed in Google by Staff Acme: title &#39;A&#39; → &#39;B&#39;" in history
    assert "Changed in Google by Staff Acme: title (was &#39;Old&#39;), notes" in history
    assert history.index("Google&#39;s version won") < history.index("title (was") < history.index("→")
    assert "The other version (kept here): title &#39;Z&#39;" in history  # the losing version, in words
    assert "&#34;" not in history and "{" not in history  # never raw JSON
    assert "X: 1" not in history  # another item's row


def test_an_item_without_history_says_so(acme, users, login_as, make_task):
    task = make_task(acme, [users[Role.STAFF]])
    html = login_as(users[Role.STAFF]).get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "No change to this task has come from Google or been settled by the sync." in html


def test_lists_are_in_date_order(acme, users, login_as, make_task):
    staff = users[Role.STAFF]
    make_task(acme, [staff], title="Later", due_date=date(2030, 5, 2))
    make_task(acme, [staff], title="Sooner", due_at=datetime(2030, 5, 1, 12))
    make_task(acme, [staff], title="Someday")
    html = login_as(staff).get("/tasks").get_data(as_text=True)
    assert html.index("Sooner") < html.index("Later") < html.index("Someday")


def test_sync_history_shows_times_in_the_viewers_zone_not_iso_stamps(acme, users, login_as, make_task):
    staff = users[Role.STAFF]
    staff.timezone = "America/New_York"
    task = make_task(acme, [staff], title="Call")
    db.session.add_all([
        SyncHistory(company_id=acme.id, item_type="task", item_id=task.id, user_id=staff.id,
                    action="changed_in_google", detail={"changes": {"due_at": ["2030-01-02T15:00:00",
                                                                               "2030-01-03T15:30:00"]}}),
        SyncHistory(company_id=acme.id, item_type="task", item_id=task.id, user_id=None, action="conflict_portal_won",
                    detail={"lost": {"title": "Call Bob", "start": {"dateTime": "2030-01-04T09:00:00+01:00",
                                                                     "timeZone": "Europe/Paris"}}}),
    ])
    db.session.commit()
    history = login_as(staff).get(f"/tasks/{task.id}").get_data(as_text=True).split('id="sync-history"')[1]
    assert "due &#39;Wed 02 Jan 2030, 10:00&#39; → &#39;Thu 03 Jan 2030, 10:30&#39;" in history
    assert "start &#39;Fri 04 Jan 2030, 03:00&#39;" in history
    assert "2030-01" not in history and "dateTime" not in history and "due_at" not in history  # no field names
