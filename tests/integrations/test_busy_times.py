""""Check my Google calendars for conflicts" through the real stack (issue #25): the one extra free/busy
permission by incremental authorization at the emulator, busy blocks on the portal calendar from Google's
free/busy answer, kept briefly, forgotten on a push notification, and nothing asked while it is off."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from app.busy import Busy, busy_times
from app.crypto import decrypt
from app.extensions import db
from app.google import FREEBUSY_SCOPE, REQUIRED_SCOPES
from app.models import Appointment, CalendarConnection, ConnectionStatus, Role
from app.timefmt import zone
from tests.conftest import csrf_token, post_form
from tests.google_flow import consent, google_user_service, path_of, sign_in_with_google

ALEX, SAM = "alex@example.com", "sam@example.com"
OTHER_APP = "another-app.apps.googleusercontent.com"


def connection_of(user) -> CalendarConnection:
    db.session.expire_all()
    return db.session.scalar(sa.select(CalendarConnection).where(CalendarConnection.user_id == user.id))


def google_as(google, email=ALEX):
    """A person's Google Calendar as another app of theirs sees it (its own grant: the portal's stays as it is)."""
    google.register_client(OTHER_APP, "other-secret", ["http://127.0.0.1/other"])
    return google_user_service(google, None, email, client_id=OTHER_APP)


def freebusy_calls(google) -> int:
    return google.counters()["methods"].get("calendar.freebusy.query", 0)


def connected(google, login_as, user, email=ALEX):
    """`user` signed in with Google as `email`, the 2-way sync active into a calendar of its own, so the
    primary calendar is one the portal asks Google about."""
    client = login_as(user)
    sign_in_with_google(client, email)
    portal_calendar = google_as(google, email).calendars().insert(body={"summary": "Portal"}).execute()
    connection = connection_of(user)
    connection.calendar_id, connection.status = portal_calendar["id"], ConnectionStatus.ACTIVE
    db.session.commit()
    return client


@pytest.fixture
def synced(google, users, login_as):
    return connected(google, login_as, users[Role.CLIENT])


def turn_on(client, tick=(FREEBUSY_SCOPE,), action="continue", email=ALEX):
    """On → Google's screen asking for the one new permission → the broker → the portal."""
    start = client.post("/integrations/two-way/busy/on", data={"csrf_token": csrf_token(client, "/integrations/")})
    assert start.status_code == 302
    asked = parse_qs(urlsplit(start.headers["Location"]).query)
    callback = client.get(path_of(consent(start.headers["Location"], email, tick=tick, action=action)))
    return asked, client.get(path_of(callback.headers["Location"]), follow_redirects=True)


def test_turning_it_on_asks_for_exactly_one_more_permission_and_keeps_the_grant(synced, users):
    before = connection_of(users[Role.CLIENT])
    refresh_token, calendar_id = decrypt(before.refresh_token_enc), before.calendar_id
    asked, page = turn_on(synced)
    assert asked["scope"][0].split() == ["openid", "email", "profile", FREEBUSY_SCOPE]
    assert asked["include_granted_scopes"] == ["true"]
    assert "Conflicts are now checked against your primary Google calendar" in page.get_data(as_text=True)
    after = connection_of(users[Role.CLIENT])
    assert after.scope_set >= {*REQUIRED_SCOPES, FREEBUSY_SCOPE}
    assert after.status is ConnectionStatus.ACTIVE and after.calendar_id == calendar_id
    assert decrypt(after.refresh_token_enc) == refresh_token  # the same grant, one permission more
    assert after.busy_calendars == {ALEX: ALEX}


@pytest.mark.parametrize("how", ["cancel", "untick"])
def test_a_refusal_leaves_the_sync_as_it_was(synced, users, how):
    before = connection_of(users[Role.CLIENT])
    scopes, token = before.scope_set, before.access_token_enc
    _, page = turn_on(synced, tick=() if how == "untick" else (FREEBUSY_SCOPE,),
                      action="cancel" if how == "cancel" else "continue")
    assert "Nothing changed" in page.get_data(as_text=True)
    after = connection_of(users[Role.CLIENT])
    assert after.scope_set == scopes and after.status is ConnectionStatus.ACTIVE and after.busy_calendars is None
    if how == "cancel":
        assert after.access_token_enc == token


def test_busy_blocks_come_from_free_busy_kept_briefly_and_forgotten_on_notice(synced, google, app, users):
    client_user = users[Role.CLIENT]
    tz = zone(client_user.timezone)
    day = (datetime.now(tz) + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    google_as(google).events().insert(calendarId="primary", body={
        "summary": "Private: doctor", "start": {"dateTime": day.isoformat()},
        "end": {"dateTime": (day + timedelta(hours=1)).isoformat()}}).execute()
    month = f"/calendar/?view=agenda&date={day.date().isoformat()}"

    assert "Busy in Google" not in synced.get(month).get_data(as_text=True)
    assert freebusy_calls(google) == 0  # off: nothing is asked

    turn_on(synced)
    page = synced.get(month).get_data(as_text=True)
    assert "10:00–11:00</span> Busy in Google" in page and "Private: doctor" not in page  # no titles, ever
    assert freebusy_calls(google) == 1
    synced.get(month)
    assert freebusy_calls(google) == 1  # warm: kept for a few minutes

    connection = connection_of(client_user)
    start = day.astimezone(zone("UTC")).replace(tzinfo=None)
    with app.test_request_context():
        assert busy_times(connection, start - timedelta(hours=2), start + timedelta(hours=2)) == \
            [Busy(start, start + timedelta(hours=1))]
    calls = freebusy_calls(google)
    connection.channel_id, connection.channel_token = "channel-1", "secret-1"
    db.session.commit()
    notice = app.test_client().post("/broker/google/notifications", headers={
        "X-Goog-Channel-ID": "channel-1", "X-Goog-Resource-State": "exists", "X-Goog-Channel-Token": "secret-1"})
    assert notice.status_code == 204
    synced.get(month)
    assert freebusy_calls(google) == calls + 1  # Google said something changed: asked afresh


def test_turning_it_off_forgets_and_asks_nothing_more(synced, google, users):
    turn_on(synced)
    synced.post("/integrations/two-way/busy/off", data={"csrf_token": csrf_token(synced, "/integrations/")})
    assert connection_of(users[Role.CLIENT]).busy_calendars is None
    calls = freebusy_calls(google)
    page = synced.get("/calendar/").get_data(as_text=True)
    assert "Busy in Google" not in page and freebusy_calls(google) == calls


def test_choosing_calendars_offers_only_the_persons_own_and_refuses_others(synced, google, users):
    turn_on(synced)
    page = synced.get("/integrations/two-way/busy").get_data(as_text=True)
    assert "Company Holidays" in page and "Team Holidays" in page  # read-only calendars have busy times too
    token = csrf_token(synced, "/integrations/two-way/busy")
    refused = synced.post("/integrations/two-way/busy", data={"csrf_token": token, "calendars": ["someone@else.com"]})
    assert refused.status_code == 400 and "Choose among your own Google calendars" in refused.get_data(as_text=True)
    empty = synced.post("/integrations/two-way/busy", data={"csrf_token": token})
    assert empty.status_code == 400 and "Choose at least one calendar" in empty.get_data(as_text=True)
    assert connection_of(users[Role.CLIENT]).busy_calendars == {ALEX: ALEX}
    team = next(cid for cid, name in re.findall(r'value="([^"]+)"[^>]*>\s*<label[^>]*>([^<]+)<', page)
                if name.strip() == "Team Holidays")
    saved = synced.post("/integrations/two-way/busy", data={"csrf_token": token, "calendars": [ALEX, team]})
    assert saved.status_code == 302
    assert connection_of(users[Role.CLIENT]).busy_calendars == {ALEX: ALEX, team: "Team Holidays"}
    assert "Team Holidays" in synced.get("/integrations/").get_data(as_text=True)


def busy_in_google(google, email: str, start: datetime, hours: int = 1) -> None:
    google_as(google, email).events().insert(calendarId="primary", body={
        "summary": "Private", "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(hours=hours)).isoformat()}}).execute()


def appointment(client, staff, contact, day, start: str, end: str, **more):
    return post_form(client, "/appointments/new", {
        "title": "Tax review", "start_date": day.isoformat(), "start_time": start, "end_time": end,
        "timezone": staff.timezone, "staff": staff.id, "contact": contact.id, **more})


def test_booking_over_a_busy_time_warns_with_the_next_free_slots_and_a_free_time_does_not(google, users, login_as):
    staff, contact = users[Role.STAFF], users[Role.CLIENT]
    sam = connected(google, login_as, staff, SAM)
    turn_on(sam, email=SAM)
    day = (datetime.now(zone(staff.timezone)) + timedelta(days=2)).date()
    busy_in_google(google, SAM, datetime.combine(day, datetime.min.time().replace(hour=10), zone(staff.timezone)))

    warned = appointment(sam, staff, contact, day, "10:30", "11:30")
    page = warned.get_data(as_text=True)
    assert warned.status_code == 409 and count_appointments() == 0  # warned before saving
    assert f"{staff.name} is busy in Google 10:00–11:00." in page and "Private" not in page
    assert "Free for everyone that day: 11:00–12:00, 11:30–12:30, 12:00–13:00." in page
    calls = freebusy_calls(google)
    assert calls == 1

    fine = appointment(sam, staff, contact, day, "11:00", "12:00")
    assert fine.status_code == 302 and count_appointments() == 1
    assert freebusy_calls(google) == calls  # the same day's answer, kept

    seen = re.search(r'name="busy_seen" value="([^"]+)"', page).group(1)
    anyway = appointment(sam, staff, contact, day, "10:30", "11:30", busy_seen=seen)
    assert anyway.status_code == 302 and count_appointments() == 2
    moved = appointment(sam, staff, contact, day, "09:30", "10:30", busy_seen=seen)  # another time: checked again
    assert moved.status_code == 409 and count_appointments() == 2


def test_nobody_is_asked_about_when_nobody_shares_busy_times(google, users, login_as):
    staff, contact = users[Role.STAFF], users[Role.CLIENT]
    sam = connected(google, login_as, staff, SAM)  # connected, but conflicts not turned on
    day = (datetime.now(zone(staff.timezone)) + timedelta(days=2)).date()
    busy_in_google(google, SAM, datetime.combine(day, datetime.min.time().replace(hour=10), zone(staff.timezone)))
    assert appointment(sam, staff, contact, day, "10:00", "11:00").status_code == 302
    assert freebusy_calls(google) == 0


def test_busy_times_unavailable_do_not_stop_a_booking(google, users, login_as):
    staff, contact = users[Role.STAFF], users[Role.CLIENT]
    sam = connected(google, login_as, staff, SAM)
    turn_on(sam, email=SAM)
    google.add_fault(match="calendar.freebusy.query", status=503, count=100)
    day = (datetime.now(zone(staff.timezone)) + timedelta(days=2)).date()
    busy_in_google(google, SAM, datetime.combine(day, datetime.min.time().replace(hour=10), zone(staff.timezone)))
    assert appointment(sam, staff, contact, day, "10:00", "11:00").status_code == 302  # booked, unwarned
    assert freebusy_calls(google) == 1  # asked once, no retries while a person waits
    page = sam.get(f"/calendar/?date={day.isoformat()}").get_data(as_text=True)
    assert "Your busy times from Google are unavailable right now" in page
    google.clear_faults()
    page = sam.get(f"/calendar/?view=agenda&date={day.isoformat()}").get_data(as_text=True)
    assert "Busy in Google" in page and 'id="busy-unavailable"' not in page  # back by itself


def count_appointments() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Appointment))


def test_a_contacts_busy_times_count_only_when_the_contact_shares_them(google, users, login_as):
    staff, contact = users[Role.STAFF], users[Role.CLIENT]
    sam = login_as(staff)
    alex = connected(google, login_as, contact, ALEX)
    day = (datetime.now(zone(staff.timezone)) + timedelta(days=2)).date()
    busy_in_google(google, ALEX, datetime.combine(day, datetime.min.time().replace(hour=10), zone(staff.timezone)))

    assert appointment(sam, staff, contact, day, "10:00", "10:30").status_code == 302  # Alex shares nothing
    assert freebusy_calls(google) == 0
    turn_on(alex)
    warned = appointment(sam, staff, contact, day, "10:15", "10:45")
    assert warned.status_code == 409
    assert f"{contact.name} is busy in Google 10:00–11:00." in warned.get_data(as_text=True)


def test_a_timed_event_warns_and_an_all_day_one_does_not(google, users, login_as):
    staff = users[Role.STAFF]
    sam = connected(google, login_as, staff, SAM)
    turn_on(sam, email=SAM)
    day = (datetime.now(zone(staff.timezone)) + timedelta(days=2)).date()
    busy_in_google(google, SAM, datetime.combine(day, datetime.min.time().replace(hour=10), zone(staff.timezone)))
    event = {"title": "Team lunch", "start_date": day.isoformat(), "timezone": staff.timezone,
             "attendees": [staff.id]}
    timed = post_form(sam, "/events/new", {**event, "start_time": "10:00", "end_time": "11:00"})
    assert timed.status_code == 409 and f"{staff.name} is busy in Google 10:00–11:00." in timed.get_data(as_text=True)
    assert post_form(sam, "/events/new", {**event, "all_day": "y"}).status_code == 302


def test_two_companies_on_one_google_account_keep_their_own_busy_times(google, users, other_company, login_as):
    """Acme's and Globex's clients share alex@example.com: each turns checking on for themself; Acme turning it
    off, then deleting its connection, leaves Globex's busy times (and its grant) working."""
    acme_person, globex_person = users[Role.CLIENT], other_company[1][Role.CLIENT]
    acme = connected(google, login_as, acme_person)
    globex = connected(google, login_as, globex_person)
    turn_on(acme)
    turn_on(globex)
    day = (datetime.now(zone(globex_person.timezone)) + timedelta(days=1)).date()
    busy_in_google(google, ALEX, datetime.combine(day, datetime.min.time().replace(hour=10),
                                                  zone(globex_person.timezone)))
    month = f"/calendar/?view=agenda&date={day.isoformat()}"
    assert "Busy in Google" in acme.get(month).get_data(as_text=True)

    acme.post("/integrations/two-way/busy/off", data={"csrf_token": csrf_token(acme, "/integrations/")})
    assert "Busy in Google" not in acme.get(month).get_data(as_text=True)
    post_form(acme, "/integrations/two-way/delete", {"events": "keep"}, page="/integrations/")
    assert connection_of(acme_person) is None
    page = globex.get(month).get_data(as_text=True)
    assert "Busy in Google" in page and 'id="busy-unavailable"' not in page
    assert connection_of(globex_person).busy_calendars == {ALEX: ALEX}
