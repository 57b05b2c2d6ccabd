"""Jobs an admin asks for in Company Settings, run outside the admin's request."""
from __future__ import annotations

import logging

import sqlalchemy as sa

from app.extensions import db
from app.models import AuditLog, CalendarConnection
from app.sync.connections import disconnect

log = logging.getLogger(__name__)


def disconnect_connections(audit_id: int, connection_ids: list[int]) -> None:
    """An admin's "disconnect every connection of a role" (audited by the view as `audit_id`): each connection
    stops its channel and leaves Google (two calls), committed one by one; the audit entry says how it went."""
    entry = db.session.get(AuditLog, audit_id)
    if entry is None or entry.after is not None:
        return  # done already (a job run twice)
    disconnected, failed = 0, []
    for connection_id in connection_ids:
        connection = db.session.scalar(sa.select(CalendarConnection).where(
            CalendarConnection.id == connection_id, CalendarConnection.company_id == entry.company_id))
        if connection is None:  # removed meanwhile, e.g. by its user
            continue
        email = connection.user.email
        try:
            disconnect(connection, entry.actor)
            db.session.commit()  # its token is already revoked at Google: keep that even if a later one fails
            disconnected += 1
        except Exception:
            db.session.rollback()
            log.exception("disconnect-all: connection %s could not be disconnected", connection_id)
            failed.append(email)
    entry = db.session.get(AuditLog, audit_id)
    entry.after = {"disconnected": disconnected, "failed": failed}
    db.session.commit()
