"""Every POST route, read from the URL map, refuses a request without a CSRF token: a route added
tomorrow is probed without anyone editing this file. The only exemptions are listed here, with why."""
from __future__ import annotations

from app.models import Role
from tests.conftest import csrf_token
from tests.security.conftest import build, rules

# endpoint → why it takes no CSRF token (another proof of origin replaces it)
CSRF_EXEMPT = {
    "broker.webhook": "Google's push notifications: no browser session; checked by the channel id and its "
                      "secret X-Goog-Channel-Token",
}
EXPIRED = "Your form expired or was not sent from this site"


def test_every_post_route_refuses_a_missing_or_forged_token(app, users, login_as, client):
    admin = login_as(users[Role.ADMIN])
    probed = []
    for rule in rules(app, "POST"):
        if rule.endpoint in CSRF_EXEMPT:
            continue
        url = build(app, rule)
        for who in (admin, client):
            for data in ({}, {"csrf_token": "forged"}, {"csrf_token": csrf_token(app.test_client())}):
                response = who.post(url, data={"title": "x", **data})
                assert response.status_code == 400, f"{url} {data}: {response.status_code}"
                assert EXPIRED in response.get_data(as_text=True), url
        probed.append(rule.endpoint)
    assert "auth.login" in probed and "settings.profile" in probed and len(probed) >= 20


def test_each_exemption_names_a_real_route_that_is_really_exempt(app, client):
    """An exemption for a route that no longer exists, or one that would still check CSRF, is stale."""
    exempt_routes = {rule.endpoint: rule for rule in rules(app, "POST") if rule.endpoint in CSRF_EXEMPT}
    assert set(exempt_routes) == set(CSRF_EXEMPT)
    for endpoint, rule in exempt_routes.items():
        response = client.post(build(app, rule), data={})
        assert response.status_code != 400 or EXPIRED not in response.get_data(as_text=True), endpoint
