"""Company Settings are for the company's own admins: everyone else is refused, no tenant sees another."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.models import AuditLog, CalendarConnection, ConnectionStatus, Role
from tests.conftest import csrf_token, run_jobs
from testsupport.factories import make_connection

NON_ADMINS = [Role.MANAGER, Role.STAFF, Role.PROSPECT, Role.CLIENT]


def settings_requests(app):
    """Every settings route with sample arguments, so a new route is covered without touching this test."""
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("settings."):
            continue
        path = rule.build({arg: ("client" if arg == "role" else "1") for arg in rule.arguments})[1]
        yield ("GET" if "GET" in rule.methods else "POST"), path


@pytest.mark.parametrize("role", NON_ADMINS, ids=lambda r: r.value)
def test_non_admins_get_403_on_every_settings_route(app, users, login_as, role):
    client = login_as(users[role])
    token = csrf_token(client, "/dashboard")
    requests = list(settings_requests(app))
    assert len(requests) >= 6
    for method, path in requests:
        response = client.open(path, method=method, data={"csrf_token": token} if method == "POST" else None)
        assert response.status_code == 403, (method, path, response.status_code)
        assert "Only company admins" in response.get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_login(app, client):
    for method, path in settings_requests(app):
        response = client.open(path, method=method)
        # A POST without a session has no valid CSRF token either: refused before anything else.
        assert response.status_code in (302, 400), (method, path)
        if response.status_code == 302:
            assert "/login" in response.headers["Location"]


def test_non_admins_do_not_see_the_settings_menu_entry(users, login_as):
    html = login_as(users[Role.MANAGER]).get("/dashboard").get_data(as_text=True)
    assert "Company Settings" not in html
    html = login_as(users[Role.ADMIN]).get("/dashboard").get_data(as_text=True)
    assert "Company Settings" in html


def test_another_companys_admin_sees_and_changes_only_their_own_company(app, company, users, other_company, login_as):
    acme, _ = company
    globex, globex_users = other_company
    connection = make_connection(users[Role.CLIENT])
    client = login_as(globex_users[Role.ADMIN])

    assert "Acme" not in client.get("/settings/").get_data(as_text=True)
    overview = client.get("/settings/connections").get_data(as_text=True)
    assert connection.google_email not in overview and users[Role.CLIENT].email not in overview

    token = csrf_token(client, "/settings/")
    client.post("/settings/visibility", data={"csrf_token": token})  # no switch on: hides every role, in Globex
    client.post("/settings/profile", data={"csrf_token": token, "name": "Hijacked", "brand_color": "#000000"})
    client.post("/settings/roles/client/disconnect-all", data={"csrf_token": token})
    run_jobs(app)

    db.session.expire_all()
    assert (acme.name, acme.brand_color, acme.setting("integrations_hidden_roles", [])) == ("Acme", "#2563eb", [])
    assert globex.name == "Hijacked"
    assert globex.setting("integrations_hidden_roles") == ["client", "manager", "prospect", "staff"]
    assert db.session.get(CalendarConnection, connection.id) is not None
    assert set(db.session.scalars(db.select(AuditLog.company_id))) == {globex.id}


def test_another_companys_connection_is_not_found(company, users, other_company, login_as):
    connection = make_connection(users[Role.STAFF], status=ConnectionStatus.ACTIVE)
    client = login_as(other_company[1][Role.ADMIN])
    token = csrf_token(client, "/settings/connections")
    for action in ("sync", "disconnect"):
        response = client.post(f"/settings/connections/{connection.id}/{action}", data={"csrf_token": token})
        assert response.status_code == 404, action
        assert "does not exist in your company" in response.get_data(as_text=True)
