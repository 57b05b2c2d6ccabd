"""At most one live watch channel per connection, and no grant left behind (issue #10, findings 3 and 4)."""
from __future__ import annotations

import requests
import sqlalchemy as sa
from googleapiclient.errors import HttpError

from app.crypto import decrypt
from app.extensions import db
from app.models import CalendarConnection, ConnectionStatus, EventLink
from tests.conftest import run_jobs
from tests.google_flow import sign_in_with_google
from tests.sync.conftest import pull
from testsupport.factories import make_items


def channel_is_live(google, app, email: str, channel_id: str, resource_id: str) -> bool:
    """Ask Google to stop the channel as its owner: 404 means it was already stopped."""
    from google.oauth2.credentials import Credentials
    from googleapiclient.discovery import build

    token = google.issue_token(email, app.config["GOOGLE_CLIENT_ID"], ["https://www.googleapis.com/auth/calendar"])
    service = build("calendar", "v3", credentials=Credentials(token), static_discovery=True,
                    client_options={"api_endpoint": google.base_url + "/calendar/v3/"})
    try:
        service.channels().stop(body={"id": channel_id, "resourceId": resource_id}).execute()
    except HttpError as exc:
        assert exc.resp.status == 404, exc
        return False
    return True


def refresh_works(google, app, refresh_token: str) -> bool:
    response = requests.post(google.token_uri, data={
        "grant_type": "refresh_token", "refresh_token": refresh_token,
        "client_id": app.config["GOOGLE_CLIENT_ID"], "client_secret": app.config["GOOGLE_CLIENT_SECRET"]})
    return response.status_code == 200


def test_reconnecting_after_a_revocation_stops_the_old_channel(connect, user, google, app, login_as):
    make_items(user, tasks=1)
    connection = connect()
    old = (connection.channel_id, connection.channel_resource_id)
    google.revoke_user_tokens("alex@example.com")
    pull(app)
    db.session.refresh(connection)
    assert connection.status is ConnectionStatus.RECONNECT
    sign_in_with_google(login_as(user))  # "Reconnect"
    run_jobs(app)
    db.session.refresh(connection)
    assert connection.status is ConnectionStatus.ACTIVE and connection.channel_id not in (None, old[0])
    assert not channel_is_live(google, app, "alex@example.com", *old)
    assert channel_is_live(google, app, "alex@example.com", connection.channel_id, connection.channel_resource_id)


def test_a_renewed_channel_replaces_the_old_one(connect, user, google, app):
    from jobs.periodic import renew_channel

    connection = connect()
    old = (connection.channel_id, connection.channel_resource_id)
    connection.channel_expires_at = None
    db.session.commit()
    renew_channel(connection.id)
    db.session.refresh(connection)
    assert not channel_is_live(google, app, "alex@example.com", *old)


def test_a_channel_google_could_not_stop_is_kept_rather_than_doubled(connect, user, google, app):
    from jobs.periodic import renew_channel

    connection = connect()
    old = (connection.channel_id, connection.channel_resource_id)
    connection.channel_expires_at = None
    db.session.commit()
    google.add_fault(status=503, count=20, match="channels.stop")
    renew_channel(connection.id)
    google.clear_faults()
    db.session.refresh(connection)
    assert (connection.channel_id, connection.channel_resource_id) == old  # still the one live channel
    assert channel_is_live(google, app, "alex@example.com", *old)


def test_granting_again_with_another_google_account_revokes_the_first(connect, user, google, app, login_as):
    make_items(user, tasks=1)
    connection = connect()
    first_refresh = decrypt(connection.refresh_token_enc)
    old_channel = (connection.channel_id, connection.channel_resource_id)
    assert refresh_works(google, app, first_refresh)
    browser = login_as(user)
    sign_in_with_google(browser, email="sam@example.com")  # e.g. "Grant missing permissions", another account
    db.session.expire_all()
    connection = db.session.scalar(sa.select(CalendarConnection).where(CalendarConnection.user_id == user.id))
    assert connection.google_email == "sam@example.com"
    assert not refresh_works(google, app, first_refresh)  # the first account's grant is gone
    assert not channel_is_live(google, app, "alex@example.com", *old_channel)
    assert connection.status is ConnectionStatus.NEEDS_CALENDAR and connection.calendar_id is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EventLink)) == 0
    page = browser.get("/integrations/").get_data(as_text=True)
    assert "instead of alex@example.com" in page and "access to alex@example.com was removed" in page
