"""Integrations menu visibility per role: hidden means no menu entry AND 403, and every change is audited."""
from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.models import AuditLog, CalendarConnection, ConnectionKind, ConnectionStatus, Role
from tests.conftest import csrf_token, run_jobs
from testsupport.factories import make_connection


def save_visibility(client, *visible: Role, token: bool = True, extra: dict | None = None):
    """Post the per-role switches as a browser without JavaScript would: checked boxes only."""
    data = {f"visible_{role.value}": "y" for role in visible} | (extra or {})
    if token:
        data["csrf_token"] = csrf_token(client, "/settings/")
    return client.post("/settings/visibility", data=data)


def menu_labels(client) -> list[str]:
    html = client.get("/dashboard").get_data(as_text=True)
    menu = re.search(r'<ul class="list-group list-group-flush" id="flyout-menu">(.*?)</ul>', html, re.S).group(1)
    return [label.strip() for label in re.findall(r"</span>([^<]+)</a>", menu)]


def test_every_role_sees_integrations_by_default(users, login_as):
    for role in Role:
        assert "Integrations" in menu_labels(login_as(users[role])), role


def test_hiding_contacts_removes_the_menu_entry_and_refuses_the_page(company, users, admin, login_as):
    assert save_visibility(admin, Role.MANAGER, Role.STAFF).status_code == 302
    assert company[0].settings["integrations_hidden_roles"] == ["client", "prospect"]
    for role in (Role.CLIENT, Role.PROSPECT):
        client = login_as(users[role])
        assert "Integrations" not in menu_labels(client)
        response = client.get("/integrations/")
        assert response.status_code == 403
        assert "not made Integrations available to your role" in response.get_data(as_text=True)
    for role in (Role.ADMIN, Role.MANAGER, Role.STAFF):
        client = login_as(users[role])
        assert "Integrations" in menu_labels(client)
        assert client.get("/integrations/").status_code == 200


def test_showing_a_role_again_restores_its_access(company, users, admin, login_as):
    save_visibility(admin, Role.MANAGER, Role.STAFF)
    save_visibility(admin, Role.MANAGER, Role.STAFF, Role.PROSPECT, Role.CLIENT)
    assert company[0].settings["integrations_hidden_roles"] == []
    client = login_as(users[Role.CLIENT])
    assert "Integrations" in menu_labels(client)
    assert client.get("/integrations/").status_code == 200


def test_a_visibility_change_is_audited_with_before_and_after(company, users, admin):
    save_visibility(admin, Role.MANAGER, Role.PROSPECT, Role.CLIENT)
    save_visibility(admin, Role.MANAGER, Role.STAFF)
    rows = list(db.session.scalars(db.select(AuditLog).where(
        AuditLog.action == "settings.integrations_visibility").order_by(AuditLog.id)))
    assert [(r.before, r.after) for r in rows] == [
        ({"hidden_roles": []}, {"hidden_roles": ["staff"]}),
        ({"hidden_roles": ["staff"]}, {"hidden_roles": ["client", "prospect"]}),
    ]
    assert {r.actor_id for r in rows} == {users[Role.ADMIN].id}
    html = admin.get("/settings/").get_data(as_text=True)
    assert html.count("Integrations visibility changed") == 2


def test_saving_unchanged_visibility_writes_no_audit_row(company, admin):
    save_visibility(admin, *[r for r in Role if r is not Role.ADMIN])
    assert db.session.scalar(db.select(db.func.count(AuditLog.id))) == 0


def test_admins_always_keep_access(company, users, admin):
    # There is no switch for admins; a forged one is ignored, and so is "admin" in stored settings.
    save_visibility(admin, extra={"visible_admin": ""})
    assert "admin" not in company[0].settings["integrations_hidden_roles"]
    company[0].settings = {"integrations_hidden_roles": ["admin", "client"]}
    db.session.commit()
    assert "Integrations" in menu_labels(admin)
    assert admin.get("/integrations/").status_code == 200


def test_the_page_shows_the_switches_grouped_and_checked_as_stored(company, admin):
    save_visibility(admin, Role.MANAGER, Role.STAFF, Role.PROSPECT)
    html = admin.get("/settings/").get_data(as_text=True)
    assert "Staff Members" in html and "Contacts" in html
    assert 'data-group-switch="staff"' in html and 'data-group-switch="contacts"' in html
    assert re.search(r'id="visible_manager"[^>]*checked', html) or re.search(r'checked[^>]*id="visible_manager"', html)
    assert not re.search(r'<input[^>]*id="visible_client"[^>]*checked', html)
    assert "settings.js" in html


def test_a_visibility_post_without_csrf_token_is_refused(company, admin):
    response = save_visibility(admin, token=False)
    assert response.status_code == 400
    assert "Your form expired" in response.get_data(as_text=True)
    assert company[0].setting("integrations_hidden_roles") is None


def test_the_page_counts_users_with_active_connections_per_role(users, admin):
    make_connection(users[Role.CLIENT], ConnectionKind.TWO_WAY)
    make_connection(users[Role.CLIENT], ConnectionKind.ONE_WAY)  # the same user twice counts once
    make_connection(users[Role.STAFF], ConnectionKind.ONE_WAY)
    make_connection(users[Role.PROSPECT], status=ConnectionStatus.NEEDS_CALENDAR)
    html = admin.get("/settings/").get_data(as_text=True)
    counts = dict(re.findall(r'<td id="count-(\w+)">(\d+)</td>', html))
    assert counts == {"manager": "0", "staff": "1", "prospect": "0", "client": "1"}
    # A role with any connection (even one that is not active) can be disconnected; one with none cannot.
    assert 'id="disconnect-all-prospect"' in html and 'id="disconnect-all-manager"' not in html
    assert 'data-confirm="Disconnect all 2 Google connections of Client users?' in html


def test_disconnect_all_removes_the_roles_connections_in_a_job_and_is_audited(app, company, users, other_company,
                                                                               admin):
    client_two = make_connection(users[Role.CLIENT], ConnectionKind.TWO_WAY)
    client_one = make_connection(users[Role.CLIENT], ConnectionKind.ONE_WAY)
    staff = make_connection(users[Role.STAFF])
    other = make_connection(other_company[1][Role.CLIENT])
    ids = (client_two.id, client_one.id)

    response = admin.post("/settings/roles/client/disconnect-all", data={"csrf_token": csrf_token(admin, "/settings/")})
    assert response.status_code == 302
    assert "Disconnecting 2 Google connections of role Client" in admin.get("/settings/").get_data(as_text=True)
    assert run_jobs(app) == 1  # two Google calls per connection: outside the admin's request
    db.session.expire_all()
    assert [db.session.get(CalendarConnection, i) for i in ids] == [None, None]
    assert db.session.get(CalendarConnection, staff.id) and db.session.get(CalendarConnection, other.id)
    [row] = db.session.scalars(db.select(AuditLog).where(AuditLog.action == "settings.disconnect_all"))
    assert row.target == "role:client" and row.actor_id == users[Role.ADMIN].id
    assert {c["kind"] for c in row.before["connections"]} == {"two_way", "one_way"}
    assert row.after == {"disconnected": 2, "failed": []}


@pytest.mark.parametrize("role", ["admin", "nobody", "CLIENT"])
def test_disconnect_all_for_an_unknown_role_is_not_found(admin, role):
    token = csrf_token(admin, "/settings/")
    response = admin.post(f"/settings/roles/{role}/disconnect-all", data={"csrf_token": token})
    assert response.status_code == 404


def test_disconnect_all_without_csrf_token_is_refused(users, admin):
    connection = make_connection(users[Role.CLIENT])
    response = admin.post("/settings/roles/client/disconnect-all")
    assert response.status_code == 400
    assert db.session.get(CalendarConnection, connection.id) is not None


def test_disconnect_all_keeps_going_when_one_connection_fails_and_says_which(app, users, admin, monkeypatch):
    import jobs.admin
    from app.sync.connections import disconnect

    broken = make_connection(users[Role.CLIENT], ConnectionKind.ONE_WAY)
    fine = make_connection(users[Role.CLIENT], ConnectionKind.TWO_WAY)
    broken_id, fine_id = broken.id, fine.id

    def disconnect_or_fail(connection, actor):
        if connection.id == broken_id:
            raise RuntimeError("database hiccup")
        disconnect(connection, actor)

    monkeypatch.setattr(jobs.admin, "disconnect", disconnect_or_fail)
    response = admin.post("/settings/roles/client/disconnect-all", data={"csrf_token": csrf_token(admin, "/settings/")})
    assert response.status_code == 302
    run_jobs(app)
    db.session.expire_all()
    assert db.session.get(CalendarConnection, fine_id) is None
    assert db.session.get(CalendarConnection, broken_id) is not None
    [row] = db.session.scalars(db.select(AuditLog).where(AuditLog.action == "settings.disconnect_all"))
    assert row.after == {"disconnected": 1, "failed": [users[Role.CLIENT].email]}
    html = admin.get("/settings/").get_data(as_text=True)  # the activity log says which one failed
    assert f"Could not disconnect:</span> {users[Role.CLIENT].email}" in html
