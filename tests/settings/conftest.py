"""Factories for the Company Settings tests."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.models import CalendarConnection, ConnectionKind, ConnectionStatus, User


def make_connection(user: User, kind: ConnectionKind = ConnectionKind.TWO_WAY,
                    status: ConnectionStatus = ConnectionStatus.ACTIVE, **values) -> CalendarConnection:
    """A connection as the Integrations flow leaves it, minus tokens (so nothing is revoked at Google)."""
    values.setdefault("google_email", f"{user.role.value}.{user.company.slug}@example.com")
    if status is ConnectionStatus.ACTIVE:
        values.setdefault("calendar_id", values["google_email"])
        values.setdefault("calendar_summary", f"{user.name}'s calendar")
    connection = CalendarConnection(company_id=user.company_id, user=user, kind=kind, status=status, **values)
    db.session.add(connection)
    db.session.commit()
    return connection


@pytest.fixture
def admin(users, login_as):
    """A test client signed in as the company admin."""
    from app.models import Role

    return login_as(users[Role.ADMIN])


@pytest.fixture(autouse=True)
def fresh_login_user_per_request(app):
    """The `app` fixture keeps one app context pushed, so Flask's `g` (where Flask-Login caches the
    signed-in user and Flask-WTF its CSRF token) outlives a request; tests that use several clients
    need both cleared per request."""
    from flask import g

    @app.before_request
    def forget_cached_user() -> None:
        g.pop("_login_user", None)
        g.pop(app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
