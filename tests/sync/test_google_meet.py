"""Google Meet on appointments: created once by the first 2-way push, stored, carried by every copy."""
import re

import sqlalchemy as sa

from app.extensions import db
from app.models import Appointment, CalendarConnection, PendingPush, Role
from tests.conftest import post_form, run_jobs
from tests.google_flow import sign_in_with_google
from tests.sync.conftest import CALENDAR, live_events
from testsupport.factories import make_items

STAFF_CALENDAR = "sam@example.com"


def copy_of(google, calendar: str, appointment) -> dict:
    (event,) = [e for e in live_events(google, calendar)
                if e["extendedProperties"]["private"]["portalRef"] == appointment.ref]
    return event


def connect_staff(users, login_as, app) -> CalendarConnection:
    staff = login_as(users[Role.STAFF])
    sign_in_with_google(staff, email=STAFF_CALENDAR)
    post_form(staff, "/integrations/two-way/push", {"calendar_id": STAFF_CALENDAR}, page="/integrations/")
    run_jobs(app)
    return db.session.scalar(sa.select(CalendarConnection).where(CalendarConnection.user_id == users[Role.STAFF].id))


def test_first_two_way_push_creates_one_meet_shared_by_every_copy(connect, user, users, google, app, login_as):
    (appointment,) = make_items(user, appointments=1)
    connect()
    db.session.refresh(appointment)
    first = copy_of(google, CALENDAR, appointment)
    assert appointment.meet_link == first["hangoutLink"]
    assert appointment.meet_link.startswith("https://meet.google.com/")
    assert first["conferenceData"]["conferenceId"] == appointment.meet_conference["conferenceId"]
    assert appointment.meet_link not in first["description"]  # Google's conference carries it, not our text

    connect_staff(users, login_as, app)
    second = copy_of(google, STAFF_CALENDAR, appointment)
    assert second["conferenceData"]["conferenceId"] == first["conferenceData"]["conferenceId"]
    # The second copy carries the stored Meet: it did not ask Google to create one.
    assert "createRequest" not in second["conferenceData"]
    assert second["conferenceData"]["entryPoints"][0]["uri"] == appointment.meet_link

    # Shown, clickable, on the appointment's page.
    page = login_as(users[Role.STAFF]).get(f"/appointments/{appointment.id}").get_data(as_text=True)
    assert f'href="{appointment.meet_link}"' in page


def test_copy_pushed_before_the_meet_existed_is_patched_with_it(connect, user, users, google, app, login_as):
    (appointment,) = make_items(user, appointments=1)
    connect("one-way")  # the client's legacy copy: a 1-way push never creates a Meet
    assert "conferenceData" not in copy_of(google, CALENDAR, appointment)
    connect_staff(users, login_as, app)  # the staff member's 2-way push creates it...
    run_jobs(app)  # ...and queues the client's copy, which is patched with the same Meet
    db.session.refresh(appointment)
    patched = copy_of(google, CALENDAR, appointment)
    assert patched["conferenceData"]["conferenceId"] == appointment.meet_conference["conferenceId"]
    assert "createRequest" not in patched["conferenceData"]


def test_company_can_turn_meet_off_and_a_manual_link_wins(connect, user, google, app):
    with_link, plain = make_items(user, appointments=2)
    with_link.meeting_link = "https://zoom.example/j/123"
    user.company.google_meet = False
    db.session.commit()
    connect()
    for appointment in (with_link, plain):
        db.session.refresh(appointment)
        assert appointment.meet_link == ""
        assert "conferenceData" not in copy_of(google, CALENDAR, appointment)


def test_manual_meeting_link_keeps_its_own(connect, user, google, app):
    (appointment,) = make_items(user, appointments=1)
    appointment.meeting_link = "https://zoom.example/j/123"
    db.session.commit()
    connect()
    db.session.refresh(appointment)
    assert appointment.meet_link == ""
    event = copy_of(google, CALENDAR, appointment)
    assert "conferenceData" not in event and "hangoutLink" not in event
    assert db.session.get(Appointment, appointment.id).meeting_link in event["location"]


def test_one_way_push_does_not_create_a_meet(connect, user, google, app):
    (appointment,) = make_items(user, appointments=1)
    connect("one-way")
    db.session.refresh(appointment)
    assert appointment.meet_link == ""
    assert "conferenceData" not in copy_of(google, CALENDAR, appointment)


# ---------------------------------------------------------------- one video link per appointment (#25)


def edit_video(client, appointment, video: str, link: str = ""):
    """The appointment's edit form sent back as loaded, with another video choice."""
    return post_form(client, f"/appointments/{appointment.id}/edit", {
        "title": appointment.title, "start_date": appointment.start_at.date().isoformat(),
        "start_time": appointment.start_at.strftime("%H:%M"), "end_date": appointment.end_at.date().isoformat(),
        "end_time": appointment.end_at.strftime("%H:%M"),
        "timezone": "UTC", "staff": appointment.staff_id, "contact": appointment.contact_id, "location": "",
        "video": video, "meeting_link": link}, page=f"/appointments/{appointment.id}/edit")


def test_the_form_offers_one_video_choice_defaulting_to_the_companys(users, login_as):
    staff = login_as(users[Role.STAFF])
    page = staff.get("/appointments/new").get_data(as_text=True)
    assert re.search(r'<input[^>]*(checked[^>]*value="meet"|value="meet"[^>]*checked)', page)
    users[Role.STAFF].company.google_meet = False
    db.session.commit()
    page = staff.get("/appointments/new").get_data(as_text=True)
    assert re.search(r'<input[^>]*(checked[^>]*value="none"|value="none"[^>]*checked)', page)
    refused = post_form(staff, "/appointments/new", {
        "title": "Call", "start_date": "2030-05-06", "start_time": "09:00", "end_time": "10:00", "timezone": "UTC",
        "staff": users[Role.STAFF].id, "contact": users[Role.CLIENT].id, "video": "link"}, page="/appointments/new")
    assert refused.status_code == 400 and "Enter the link, or choose None or Google Meet" in refused.get_data(
        as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Appointment)) == 0


def test_changing_the_choice_updates_every_copy_once_and_shows_one_link(connect, user, users, google, app, login_as):
    (appointment,) = make_items(user, appointments=1)
    connect()
    connect_staff(users, login_as, app)
    run_jobs(app)
    db.session.refresh(appointment)
    meet = appointment.meet_link
    assert meet and all("conferenceData" in copy_of(google, cal, appointment) for cal in (CALENDAR, STAFF_CALENDAR))

    staff = login_as(users[Role.STAFF])
    google.reset_counters()
    assert edit_video(staff, appointment, "link", "https://zoom.example/j/42").status_code == 302
    run_jobs(app)
    writes = google.counters()["methods"]
    assert writes.get("calendar.events.patch", 0) + writes.get("calendar.events.update", 0) == 2  # a copy each, once
    for calendar in (CALENDAR, STAFF_CALENDAR):
        copy = copy_of(google, calendar, appointment)
        assert "conferenceData" not in copy and "hangoutLink" not in copy  # the Meet is gone from Google
        assert copy["location"] == "https://zoom.example/j/42"
        assert "Meeting link: https://zoom.example/j/42" in copy["description"] and meet not in copy["description"]
    db.session.refresh(appointment)
    assert (appointment.video, appointment.meet_link, appointment.meet_conference) == ("link", "", None)
    page = staff.get(f"/appointments/{appointment.id}").get_data(as_text=True)
    assert page.count('href="https://zoom.example/j/42"') == 1 and meet not in page and "Google Meet" not in page

    assert edit_video(staff, appointment, "none").status_code == 302
    run_jobs(app)
    for calendar in (CALENDAR, STAFF_CALENDAR):
        copy = copy_of(google, calendar, appointment)
        assert "conferenceData" not in copy and not copy.get("location") and "zoom" not in copy["description"]

    assert edit_video(staff, appointment, "meet").status_code == 302
    run_jobs(app)
    db.session.refresh(appointment)
    assert appointment.meet_link.startswith("https://meet.google.com/")
    ids = {copy_of(google, cal, appointment)["conferenceData"]["conferenceId"] for cal in (CALENDAR, STAFF_CALENDAR)}
    assert ids == {appointment.meet_conference["conferenceId"]}  # one Meet, on every copy


def test_push_existing_data_writes_each_item_once_with_meet_on(connect, user, google, app):
    """One round to a fixed point (#27): the Meet Google adds is read from the insert's answer, so the pull that
    follows the push finds nothing to apply and nothing is written back (it used to re-push every appointment)."""
    items = make_items(user, tasks=2, events=2, appointments=3)
    assert user.company.google_meet
    google.reset_counters()
    connect()
    run_jobs(app)  # anything the pull would have queued
    methods = google.counters()["methods"]
    assert methods.get("calendar.events.insert", 0) == len(items)
    assert methods.get("calendar.events.patch", 0) == 0 and methods.get("calendar.events.update", 0) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingPush)) == 0
    assert all(copy_of(google, CALENDAR, a)["conferenceData"] for a in items if isinstance(a, Appointment))
