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
from app.models import CalendarConnection, ConnectionStatus, Role
from app.timefmt import zone
from tests.conftest import csrf_token
from tests.google_flow import consent, path_of, sign_in_with_google

ALEX = "alex@example.com"
OTHER_APP = "another-app.apps.googleusercontent.com"


def connection_of(user) -> CalendarConnection:
    db.session.expire_all()
    return db.session.scalar(sa.select(CalendarConnection).where(CalendarConnection.user_id == user.id))


def alex_elsewhere(google):
    """Alex's Google Calendar as another app of theirs sees it (its own grant: the portal's stays as it is)."""
    from google.oauth2.credentials import Credentials
    from googleapiclient.discovery import build

    google.register_client(OTHER_APP, "other-secret", ["http://127.0.0.1/other"])
    token = google.issue_token(ALEX, OTHER_APP, ["https://www.googleapis.com/auth/calendar"])
    return build("calendar", "v3", credentials=Credentials(token), static_discovery=True,
                 client_options={"api_endpoint": google.base_url + "/calendar/v3/"})


def freebusy_calls(google) -> int:
    return google.counters()["methods"].get("calendar.freebusy.query", 0)


@pytest.fixture
def synced(google, users, login_as):
    """Alex (a client) signed in with Google, the 2-way sync active into a calendar of its own, so the
    primary calendar is one the portal asks Google about."""
    client = login_as(users[Role.CLIENT])
    sign_in_with_google(client)
    portal_calendar = alex_elsewhere(google).calendars().insert(body={"summary": "Portal"}).execute()
    connection = connection_of(users[Role.CLIENT])
    connection.calendar_id, connection.status = portal_calendar["id"], ConnectionStatus.ACTIVE
    db.session.commit()
    return client


def turn_on(client, tick=(FREEBUSY_SCOPE,), action="continue"):
    """On → Google's screen asking for the one new permission → the broker → the portal."""
    start = client.post("/integrations/two-way/busy/on", data={"csrf_token": csrf_token(client, "/integrations/")})
    assert start.status_code == 302
    asked = parse_qs(urlsplit(start.headers["Location"]).query)
    callback = client.get(path_of(consent(start.headers["Location"], ALEX, tick=tick, action=action)))
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
    alex_elsewhere(google).events().insert(calendarId="primary", body={
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
