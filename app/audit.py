"""The audit trail: who changed what in a company, with the values before and after.

`record` only adds the row; the view that made the change commits it together with the
change itself, so an audited change and its audit row succeed or fail as one.
"""
from __future__ import annotations

from .extensions import db
from .models import AuditLog, CalendarConnection, User


def record(actor: User, action: str, target: str | None = None, before: dict | None = None,
           after: dict | None = None) -> AuditLog:
    entry = AuditLog(company_id=actor.company_id, actor_id=actor.id, action=action, target=target,
                     before=before, after=after)
    db.session.add(entry)
    return entry


def connection_summary(connection: CalendarConnection) -> dict:
    """What the audit trail keeps of a connection that goes: whose, which account, in which state."""
    return {"user": connection.user.email, "role": connection.user.role.value, "kind": connection.kind.value,
            "google_email": connection.google_email, "status": connection.status.value,
            "calendar": connection.calendar_summary}
