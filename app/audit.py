"""The audit trail: who changed what in a company, with the values before and after.

`record` only adds the row; the view that made the change commits it together with the
change itself, so an audited change and its audit row succeed or fail as one.
"""
from __future__ import annotations

from .extensions import db
from .models import AuditLog, User


def record(actor: User, action: str, target: str | None = None, before: dict | None = None,
           after: dict | None = None) -> AuditLog:
    entry = AuditLog(company_id=actor.company_id, actor_id=actor.id, action=action, target=target,
                     before=before, after=after)
    db.session.add(entry)
    return entry
