"""The company's Google Meet switch, and the audit trail in plain words (no JSON, ids or internal names)."""
from __future__ import annotations

import re

from app.extensions import db
from app.models import AuditLog, Role
from tests.conftest import csrf_token, run_jobs
from tests.settings.test_visibility import save_visibility
from testsupport.factories import make_connection


def audit_table(client) -> str:
    html = client.get("/settings/").get_data(as_text=True)
    return re.search(r'<section class="card shadow-sm mt-4" id="audit">(.*?)</section>', html, re.S).group(1)


def test_admin_turns_google_meet_off_and_on(company, admin):
    acme = company[0]
    assert acme.google_meet  # on by default
    response = admin.post("/settings/google-meet", data={"csrf_token": csrf_token(admin, "/settings/")})
    assert response.status_code == 302
    db.session.refresh(acme)
    assert acme.google_meet is False
    assert "Google Meet on appointments:</span> off" in audit_table(admin)
    admin.post("/settings/google-meet", data={"csrf_token": csrf_token(admin, "/settings/"), "google_meet": "y"})
    db.session.refresh(acme)
    assert acme.google_meet is True
    assert db.session.query(AuditLog).filter_by(action="settings.google_meet").count() == 2


def test_google_meet_switch_needs_csrf(company, admin):
    assert admin.post("/settings/google-meet", data={}).status_code == 400


def test_audit_trail_speaks_plain_words(app, company, users, admin):
    make_connection(users[Role.STAFF])
    save_visibility(admin, Role.MANAGER, Role.STAFF, Role.PROSPECT)
    admin.post(f"/settings/roles/{Role.STAFF.value}/disconnect-all",
               data={"csrf_token": csrf_token(admin, "/settings/")})
    run_jobs(app)  # the disconnects run in a job, which writes the audit row
    table = audit_table(admin)
    assert "Integrations hidden from:</span> Client" in table
    assert "(Staff)" in table
    for developer_text in ("hidden_roles", "company:", "role:", "[", "{", "&#34;"):
        assert developer_text not in table, developer_text
