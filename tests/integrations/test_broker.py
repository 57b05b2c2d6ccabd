"""The integration broker across domains: an opaque single-use state, a one-time handoff checked against the
portal's own session, and the broker as its own process.

The test client serves every host name itself, so these walk the redirects by path; the browser story
on real host names is tests/browser/test_white_label_domains.py.
"""
from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from app import create_app
from app.extensions import db
from app.integrations import signin
from app.models import CalendarConnection, Role
from config import TestConfig
from tests.conftest import IsolatedClient, login, post_form
from tests.google_flow import path_of, sign_in_with_google, start_and_consent


def connection_of(user) -> CalendarConnection | None:
    return db.session.scalar(sa.select(CalendarConnection).where(CalendarConnection.user_id == user.id))


def through_the_broker(client, broker=None) -> str:
    """Start, consent and pass the broker's callback; returns the handoff URL for the portal."""
    callback = (broker or client).get(path_of(start_and_consent(client)))
    assert callback.status_code == 302, callback.get_data(as_text=True)[:300]
    return callback.headers["Location"]


def refused(response, words: str) -> bool:
    """A plain page in plain words: a 4xx, no stack, no JSON."""
    text = response.get_data(as_text=True)
    return (400 <= response.status_code < 500 and words in text and "Traceback" not in text
            and response.mimetype == "text/html")


def test_tampered_state_is_refused(google, users, login_as):
    response = login_as(users[Role.CLIENT]).get("/broker/google/callback?state=forged&code=abc")
    assert refused(response, "invalid or has expired")


def test_google_learns_nothing_about_the_tenant(google, users, login_as, company, app):
    company[0].portal_url = None
    db.session.commit()
    user = users[Role.CLIENT]
    client = login_as(user)
    start = post_form(client, "/integrations/two-way/connect", {}, page="/integrations/")
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    assert query["redirect_uri"] == [app.config["GOOGLE_REDIRECT_URI"]]
    assert query["code_challenge_method"] == ["S256"] and "code_verifier" not in query
    state = query["state"][0]
    for secret in (company[0].name, company[0].slug, user.email):
        assert secret.lower() not in start.headers["Location"].lower()
    decoded = b"".join(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)) for part in state.split("."))
    assert b'"u"' not in decoded and b'"v"' not in decoded  # encrypted, not just signed
    opened = signin.open_state(state)  # only we can read it: company, user, kind, nonce, the PKCE verifier
    assert (opened.company_id, opened.user_id) == (company[0].id, user.id) and opened.code_verifier


def test_callback_and_handoff_each_work_once(google, users, login_as):
    user = users[Role.CLIENT]
    client = login_as(user)
    callback_url = path_of(start_and_consent(client))
    handoff = client.get(callback_url).headers["Location"]
    assert connection_of(user) is None  # nothing is stored before the portal checked its own session
    assert refused(client.get(callback_url), "already been completed")
    done = client.get(path_of(handoff))
    assert done.status_code == 302 and done.headers["Location"] == "/integrations/"
    assert connection_of(user).google_email == "alex@example.com"
    assert refused(client.get(path_of(handoff)), "already been completed or has expired")


def test_handoff_in_another_session_user_or_company_is_refused(google, users, login_as, other_company):
    user = users[Role.CLIENT]
    owner = login_as(user)
    handoff = path_of(through_the_broker(owner))
    assert refused(login_as(user).get(handoff), "not started in this browser")  # same user, other browser
    assert refused(login_as(users[Role.PROSPECT]).get(handoff), "started by someone else")
    assert refused(login_as(other_company[1][Role.CLIENT]).get(handoff), "started by someone else")
    assert connection_of(user) is None
    assert owner.get(handoff).status_code == 302  # the refusals did not spoil it for its owner
    assert connection_of(user) is not None


def test_expired_state_and_handoff_are_refused(google, users, login_as, monkeypatch):
    user = users[Role.CLIENT]
    client = login_as(user)
    callback_url = path_of(start_and_consent(client))
    monkeypatch.setattr(signin, "STATE_MAX_AGE", -1)
    assert refused(client.get(callback_url), "invalid or has expired")
    monkeypatch.undo()
    handoff = through_the_broker(client)
    monkeypatch.setattr(signin, "HANDOFF_MAX_AGE", -1)
    assert refused(client.get(path_of(handoff)), "invalid or has expired")
    assert connection_of(user) is None


def test_broker_sends_users_back_to_their_own_company_portal(google, users, login_as, company):
    client = login_as(users[Role.CLIENT])
    company[0].portal_url = "https://portal.acme.example"
    db.session.commit()
    handoff = through_the_broker(client)
    assert handoff.startswith("https://portal.acme.example/integrations/google/handoff?ticket=")


def test_cancel_on_google_comes_back_to_the_portal_and_connects_nothing(google, users, login_as):
    client = login_as(users[Role.CLIENT])
    response = sign_in_with_google(client, action="cancel")
    assert response.status_code == 302
    assert "cancelled" in client.get("/integrations/").get_data(as_text=True)
    assert connection_of(users[Role.CLIENT]) is None


def test_a_role_hidden_after_the_start_is_refused_at_the_callback(google, users, login_as, company):
    client = login_as(users[Role.CLIENT])
    callback_url = path_of(start_and_consent(client))
    company[0].integrations_hidden_roles = ["client"]
    db.session.commit()
    assert refused(client.get(callback_url), "not made Integrations available to your role")


@pytest.fixture
def separate_apps(app_config):
    """The portal with BROKER_MODE=separate and the broker as its own app, on one database and Redis."""
    portal = create_app(TestConfig, **{**app_config, "BROKER_MODE": "separate"})
    broker = create_app(TestConfig, broker_only=True, **app_config)
    for each in (portal, broker):
        each.test_client_class = IsolatedClient
    return portal, broker


def test_the_broker_runs_as_its_own_process(google, users, separate_apps):
    portal, broker = separate_apps
    portal_endpoints = {rule.endpoint for rule in portal.url_map.iter_rules()}
    broker_endpoints = {rule.endpoint for rule in broker.url_map.iter_rules()}
    assert "integrations.google_handoff" in portal_endpoints and not any(
        e.startswith("broker.") for e in portal_endpoints)
    assert broker_endpoints == {"static", "bootstrap.static", "broker.google_callback", "broker.webhook"}
    user = users[Role.CLIENT]
    client = login(portal.test_client(), user)
    done = sign_in_with_google(client, broker=broker.test_client())
    assert done.status_code == 302 and connection_of(user).google_email == "alex@example.com"
    assert broker.test_client().get("/login").status_code == 404


def test_the_embedded_broker_host_serves_only_the_broker(app_config, users):
    app = create_app(TestConfig, **{**app_config,
                                    "GOOGLE_REDIRECT_URI": "http://broker.example/broker/google/callback"})
    client = app.test_client()
    assert client.get("/login", base_url="http://broker.example").status_code == 404
    assert refused(client.get("/broker/google/callback?state=x", base_url="http://broker.example"),
                   "invalid or has expired")
    assert client.get("/login").status_code == 200  # the portal's own host


def test_without_redis_the_callback_says_so_plainly(google, users, login_as, app):
    from redis import Redis

    client = login_as(users[Role.CLIENT])
    callback_url = path_of(start_and_consent(client))
    redis, app.extensions["redis"] = app.extensions["redis"], Redis.from_url("redis://127.0.0.1:1/0")
    try:
        response = client.get(callback_url)
    finally:
        app.extensions["redis"] = redis
    assert response.status_code == 503 and "Please try again in a minute" in response.get_data(as_text=True)
    assert client.get(callback_url).status_code == 302  # nothing was used up: it works once Redis is back


def test_a_handoff_is_claimed_only_on_its_companys_portal_host(google, users, login_as, company):
    """The ticket names its company: a host that does not serve that company (another company's, or the shared
    one once the company has its own) refuses it, whatever session comes with it."""
    client = login_as(users[Role.CLIENT])
    handoff = path_of(through_the_broker(client))
    company[0].portal_url = "http://acme.test"  # the company moved to its own host meanwhile
    db.session.commit()
    assert refused(client.get(handoff), "belongs to another portal address")
    assert connection_of(users[Role.CLIENT]) is None
