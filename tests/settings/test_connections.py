"""The admin's overview of every Google connection in the company, with Sync now and Disconnect."""
from __future__ import annotations

import html
from datetime import datetime

import pytest

from app.extensions import db
from app.models import AuditLog, CalendarConnection, ConnectionKind, ConnectionStatus, Role, SyncRun
from app.queues import get_queue
from tests.conftest import csrf_token
from testsupport.factories import make_connection


@pytest.fixture
def connections(users, other_company):
    return {
        "client": make_connection(users[Role.CLIENT], ConnectionKind.TWO_WAY, calendar_summary="Alex's work",
                                  last_synced_at=datetime(2030, 1, 2, 9, 30)),
        "staff": make_connection(users[Role.STAFF], ConnectionKind.ONE_WAY,
                                 status=ConnectionStatus.RECONNECT, problem="grant_revoked",
                                 problem_detail="RefreshError: invalid_grant, Token has been expired or revoked."),
        "other": make_connection(other_company[1][Role.CLIENT], google_email="someone@globex.example"),
    }


def test_the_overview_lists_every_connection_of_the_company(users, connections, admin):
    html = admin.get("/settings/connections").get_data(as_text=True)
    for key in ("client", "staff"):
        c = connections[key]
        assert f'data-connection-id="{c.id}"' in html
        assert c.google_email in html and c.user.email in html
    assert "2-WAY" in html and "1-WAY" in html and "Alex&#39;s work" in html
    assert "Reconnect" in html and "Google access was revoked or has expired." in html
    assert "invalid_grant, Token has been expired or revoked." in html  # the admin's details for support
    assert "Wed 02 Jan 2030, 09:30" in html  # in the admin's own time zone (Europe/London)
    assert "someone@globex.example" not in html
    assert f'id="sync-{connections["client"].id}"' in html
    assert f'id="sync-{connections["staff"].id}"' not in html  # cannot sync: its user must reconnect


def test_the_settings_page_links_to_the_overview(admin):
    assert 'href="/settings/connections"' in admin.get("/settings/").get_data(as_text=True)


@pytest.mark.parametrize("query, shown, hidden", [
    ("role=client", "client", "staff"),
    ("status=reconnect", "staff", "client"),
    ("role=staff&status=reconnect", "staff", "client"),
    ("role=&status=", "client", None),
])
def test_the_overview_filters_by_role_and_status(connections, admin, query, shown, hidden):
    html = admin.get(f"/settings/connections?{query}").get_data(as_text=True)
    assert f'data-connection-id="{connections[shown].id}"' in html
    if hidden:
        assert f'data-connection-id="{connections[hidden].id}"' not in html


def test_a_filter_matching_nothing_says_so(connections, admin):
    html = admin.get("/settings/connections?role=manager").get_data(as_text=True)
    assert "No connection matches these filters." in html


@pytest.mark.parametrize("query, message", [
    ("role=superuser", "Unknown role 'superuser'."),
    ("status=ACTIVE", "Unknown status 'ACTIVE'."),
    ("role=client&status=%00", "a NUL byte"),
])
def test_bad_filters_get_400_with_a_message(admin, query, message):
    response = admin.get(f"/settings/connections?{query}")
    assert response.status_code == 400
    assert message in html.unescape(response.get_data(as_text=True))


def test_sync_now_records_a_run_then_enqueues_it(connections, admin):
    connection = connections["client"]
    response = admin.post(f"/settings/connections/{connection.id}/sync?role=client",
                          data={"csrf_token": csrf_token(admin, "/settings/connections")})
    assert response.status_code == 302 and response.headers["Location"] == "/settings/connections?role=client"
    [run] = db.session.scalars(db.select(SyncRun).where(SyncRun.connection_id == connection.id))
    assert run.status == "queued"
    assert get_queue().count == 1
    assert "Sync requested" in admin.get("/settings/connections").get_data(as_text=True)


def test_sync_now_on_a_connection_needing_attention_explains_why_not(connections, admin):
    connection = connections["staff"]
    token = csrf_token(admin, "/settings/connections")
    admin.post(f"/settings/connections/{connection.id}/sync", data={"csrf_token": token})
    assert db.session.scalar(db.select(db.func.count(SyncRun.id))) == 0
    assert "needs its user&#39;s attention" in admin.get("/settings/connections").get_data(as_text=True)


def test_sync_now_needs_a_csrf_token(connections, admin):
    assert admin.post(f"/settings/connections/{connections['client'].id}/sync").status_code == 400
    assert db.session.scalar(db.select(db.func.count(SyncRun.id))) == 0


def test_disconnect_removes_one_connection_and_is_audited(users, connections, admin):
    connection = connections["staff"]
    connection_id, email = connection.id, connection.google_email
    response = admin.post(f"/settings/connections/{connection_id}/disconnect",
                          data={"csrf_token": csrf_token(admin, "/settings/connections")})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(CalendarConnection, connection_id) is None
    assert db.session.get(CalendarConnection, connections["client"].id) is not None
    [row] = db.session.scalars(db.select(AuditLog).where(AuditLog.action == "connection.disconnect"))
    assert row.actor_id == users[Role.ADMIN].id and row.before["google_email"] == email and row.after is None
    assert "Disconnected" in admin.get("/settings/connections").get_data(as_text=True)


def test_the_disconnect_button_asks_for_confirmation(connections, admin):
    html = admin.get("/settings/connections").get_data(as_text=True)
    assert f'data-confirm="Disconnect {connections["client"].user.name}&#39;s 2-WAY Google connection?' in html


def test_an_unknown_connection_is_not_found(admin):
    token = csrf_token(admin, "/settings/connections")
    assert admin.post("/settings/connections/999/sync", data={"csrf_token": token}).status_code == 404
    assert admin.post("/settings/connections/999/disconnect", data={"csrf_token": token}).status_code == 404
