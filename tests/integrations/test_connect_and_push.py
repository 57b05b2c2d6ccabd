import sqlalchemy as sa

from app.crypto import decrypt
from app.extensions import db
from app.google import APP_CREATED_SCOPE, EVENTS_SCOPE, REQUIRED_SCOPES
from app.models import CalendarConnection, ConnectionKind, ConnectionStatus, Role, SyncRun, Task
from tests.conftest import post_form, run_jobs
from tests.google_flow import sign_in_with_google


def connection_of(user):
    return db.session.scalar(sa.select(CalendarConnection).where(CalendarConnection.user_id == user.id))


def test_sign_in_stores_encrypted_tokens_and_asks_for_a_calendar(google, users, login_as):
    client = login_as(users[Role.CLIENT])
    response = sign_in_with_google(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/integrations/")
    connection = connection_of(users[Role.CLIENT])
    assert connection.status is ConnectionStatus.NEEDS_CALENDAR
    assert connection.google_email == "alex@example.com"
    assert connection.scope_set >= set(REQUIRED_SCOPES)
    assert connection.access_token_enc and not connection.access_token_enc.startswith("ya29")
    assert decrypt(connection.refresh_token_enc).startswith("1//")
    page = client.get("/integrations/").get_data(as_text=True)
    assert "Push Existing Data" in page and "alex@example.com" in page
    assert "Create a new calendar for portal items" in page
    assert "Company Holidays" not in page  # read-only calendars are not offered


def test_unticked_box_needs_attention_until_granted(google, users, login_as):
    client = login_as(users[Role.CLIENT])
    sign_in_with_google(client, tick=[EVENTS_SCOPE, APP_CREATED_SCOPE])
    connection = connection_of(users[Role.CLIENT])
    assert connection.status is ConnectionStatus.NEEDS_PERMISSIONS
    page = client.get("/integrations/").get_data(as_text=True)
    assert "Needs attention" in page and "See the list of Google calendars" in page
    assert "Grant missing permissions" in page
    sign_in_with_google(client, tick=REQUIRED_SCOPES)
    db.session.refresh(connection)
    assert connection.status is ConnectionStatus.NEEDS_CALENDAR


def test_cancel_on_google_connects_nothing(google, users, login_as):
    client = login_as(users[Role.CLIENT])
    response = sign_in_with_google(client, action="cancel")
    assert response.status_code == 302
    assert connection_of(users[Role.CLIENT]) is None


def test_push_existing_data_pushes_every_item_once_and_is_idempotent(google, users, login_as, app):
    user = users[Role.CLIENT]
    from testsupport.factories import make_items

    make_items(user, tasks=3, events=3, appointments=2)
    client = login_as(user)
    sign_in_with_google(client)
    response = post_form(client, "/integrations/two-way/push", {"calendar_id": "alex@example.com"},
                         page="/integrations/")
    assert response.status_code == 302
    run_jobs(app)
    run = db.session.scalar(sa.select(SyncRun).order_by(SyncRun.id))
    assert (run.status, run.total, run.done, run.created, run.failed) == ("succeeded", 8, 8, 8, 0), run.errors
    titles = sorted(e["summary"] for e in google.events("alex@example.com") if e.get("status") != "cancelled")
    assert titles == sorted(t.title for t in db.session.scalars(sa.select(Task))) + [] or len(titles) == 8
    assert len(titles) == 8

    google.reset_counters()
    post_form(client, "/integrations/two-way/push", {"calendar_id": "alex@example.com"}, page="/integrations/")
    run_jobs(app)
    assert len([e for e in google.events("alex@example.com") if e.get("status") != "cancelled"]) == 8
    status = client.get(f"/integrations/runs/{run.id}").get_json()
    assert status["percent"] == 100 and status["finished"]


def test_delete_revokes_the_token_and_keeps_google_events(google, users, login_as, app):
    user = users[Role.CLIENT]
    client = login_as(user)
    sign_in_with_google(client)
    refresh = decrypt(connection_of(user).refresh_token_enc)
    response = post_form(client, "/integrations/two-way/delete", {}, page="/integrations/")
    assert response.status_code == 302
    assert connection_of(user) is None
    import requests
    answer = requests.post(google.base_url + "/token", data={
        "grant_type": "refresh_token", "refresh_token": refresh, "client_id": app.config["GOOGLE_CLIENT_ID"],
        "client_secret": app.config["GOOGLE_CLIENT_SECRET"]})
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_one_way_connection_locks_the_two_way_card(users, login_as, app):
    user = users[Role.STAFF]
    db.session.add(CalendarConnection(company_id=user.company_id, user_id=user.id, kind=ConnectionKind.ONE_WAY,
                                      status=ConnectionStatus.ACTIVE, google_email="sam@example.com",
                                      calendar_id="sam@example.com"))
    db.session.commit()
    client = login_as(user)
    page = client.get("/integrations/").get_data(as_text=True)
    assert "Deactivate the 1-WAY Sync" in page
    assert 'disabled id="two-way-sign-in"' in page
    refused = post_form(client, "/integrations/two-way/connect", {}, page="/integrations/")
    assert refused.status_code == 409 and "Deactivate your 1-WAY Sync first" in refused.get_data(as_text=True)
    post_form(client, "/integrations/one-way/delete", {}, page="/integrations/")
    page = client.get("/integrations/").get_data(as_text=True)
    assert "Deactivate the 1-WAY Sync" not in page and "Sign in with Google" in page


def test_another_user_cannot_see_or_touch_my_connection_or_runs(google, users, login_as, app):
    owner, other = users[Role.CLIENT], users[Role.PROSPECT]
    client = login_as(owner)
    sign_in_with_google(client)
    post_form(client, "/integrations/two-way/push", {"calendar_id": "alex@example.com"}, page="/integrations/")
    run = db.session.scalar(sa.select(SyncRun))
    intruder = login_as(other)
    assert intruder.get(f"/integrations/runs/{run.id}").status_code == 404
    assert post_form(intruder, "/integrations/two-way/delete", {}, page="/integrations/").status_code == 404
    assert "alex@example.com" not in intruder.get("/integrations/").get_data(as_text=True)
    assert connection_of(owner) is not None


def test_choosing_another_calendar_moves_the_sync_there(google, users, login_as, app):
    user = users[Role.CLIENT]
    from testsupport.factories import make_items

    make_items(user, tasks=2)
    client = login_as(user)
    sign_in_with_google(client)
    post_form(client, "/integrations/two-way/push", {"calendar_id": "alex@example.com"}, page="/integrations/")
    run_jobs(app)
    old_channel = connection_of(user).channel_id
    post_form(client, "/integrations/two-way/push", {"calendar_id": "__new__"}, page="/integrations/")
    run_jobs(app)
    connection = connection_of(user)
    assert connection.calendar_id != "alex@example.com" and connection.calendar_summary == "Acme portal"
    assert connection.channel_id and connection.channel_id != old_channel
    assert len([e for e in google.events(connection.calendar_id) if e.get("status") != "cancelled"]) == 2


def test_push_existing_data_without_redis_says_so_and_keeps_nothing_queued(google, users, login_as, app):
    from redis import Redis

    user = users[Role.CLIENT]
    client = login_as(user)
    sign_in_with_google(client)
    redis = app.extensions["redis"]
    app.extensions["redis"] = Redis.from_url("redis://127.0.0.1:1/0")
    try:
        response = post_form(client, "/integrations/two-way/push", {"calendar_id": "alex@example.com"},
                             page="/integrations/", follow_redirects=True)
    finally:
        app.extensions["redis"] = redis
    assert response.status_code == 200
    assert "background workers are unavailable" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(SyncRun)).status == "failed"


def test_switching_from_one_way_to_two_way_reuses_the_copies_in_google(google, users, login_as, app):
    from testsupport.factories import make_items

    user = users[Role.CLIENT]
    make_items(user, tasks=2, events=2, appointments=1)
    client = login_as(user)
    for kind in ("one-way", "two-way"):
        sign_in_with_google(client, kind=kind)
        post_form(client, f"/integrations/{kind}/push", {"calendar_id": "alex@example.com"}, page="/integrations/")
        run_jobs(app)
        if kind == "one-way":
            post_form(client, "/integrations/one-way/delete", {}, page="/integrations/")
    events = [e for e in google.events("alex@example.com") if e.get("status") != "cancelled"]
    assert len(events) == 5  # the same five events, now owned by the 2-way connection
    connection = connection_of(user)
    assert {e["extendedProperties"]["private"]["portalConnection"] for e in events} == {str(connection.id)}
    run = db.session.scalar(sa.select(SyncRun).where(SyncRun.connection_id == connection.id,
                                                     SyncRun.kind == "push_existing"))
    assert (run.created, run.updated) == (0, 5)


def test_a_calendar_that_is_not_in_the_list_is_refused(google, users, login_as):
    client = login_as(users[Role.CLIENT])
    sign_in_with_google(client)
    for bogus in ("someone-else@example.com", "Company Holidays", ""):  # not writable / not the user's
        response = post_form(client, "/integrations/two-way/push", {"calendar_id": bogus}, page="/integrations/")
        assert response.status_code == 400
        assert "Choose one of your own Google calendars" in response.get_data(as_text=True)
    assert connection_of(users[Role.CLIENT]).calendar_id is None
