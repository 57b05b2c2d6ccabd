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
