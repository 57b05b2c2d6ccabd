"""When a person's sync needs them: incidents, opened where the engine learns of a cause and resolved where
the cause goes, so the banner on every page (`app.notices`) and the one mail for it (`jobs.mail`) follow
the truth without anyone polling for it.

An incident is per person, card (2-way or 1-way) and cause; opening one that is open already does nothing
(a unique key, one statement on SQLite and PostgreSQL alike), so a retried run or a second worker never
opens a second. Nothing here commits: the caller's transaction carries it with the change that caused it.
"""
from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models import CalendarConnection, ConnectionKind, Incident, MailState, utcnow
from .notes import Code

# A connection's problems that only its person can fix (the others pass by themselves).
NEEDS_PERSON = (Code.GRANT_REVOKED, Code.PERMISSION_MISSING, Code.CALENDAR_GONE)
# What signing in to Google again fixes.
FIXED_BY_SIGNING_IN = (Code.GRANT_REVOKED, Code.PERMISSION_MISSING, Code.DISCONNECTED)


def open_incident(connection: CalendarConnection, code: Code) -> None:
    """The connection's person is needed for `code`, unless an incident for it is open already."""
    table = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    key = f"{connection.user_id}:{connection.kind.value}:{code.value}"
    db.session.execute(table.insert(Incident).values(
        company_id=connection.company_id, user_id=connection.user_id, connection_kind=connection.kind,
        code=code.value, opened_at=utcnow(), open_key=key, mail_state=MailState.PENDING, mail_attempts=0)
        .on_conflict_do_nothing(index_elements=["open_key"]))


def resolve_incidents(user_id: int, kind: ConnectionKind, codes: Collection[Code] | None = None) -> None:
    """The causes are gone (or the card is): the incidents close, their banner with them."""
    query = sa.update(Incident).where(Incident.user_id == user_id, Incident.connection_kind == kind,
                                      Incident.resolved_at.is_(None))
    if codes is not None:
        query = query.where(Incident.code.in_([code.value for code in codes]))
    db.session.execute(query.values(resolved_at=utcnow(), open_key=None).execution_options(synchronize_session=False))
