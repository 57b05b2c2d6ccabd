"""Jobs an admin asks for in Company Settings, run outside the admin's request."""
from __future__ import annotations

import logging

import sqlalchemy as sa

from app.audit import record
from app.extensions import db
from app.models import CalendarConnection, User
from app.sync.connections import disconnect

log = logging.getLogger(__name__)


def disconnect_connections(actor_id: int, role: str, connection_ids: list[int]) -> None:
    """An admin's "disconnect every connection of a role": each connection stops its channel and leaves
    Google (two calls), committed one by one, outside the admin's request; the audit trail says how it went."""
    actor = db.session.get(User, actor_id)
    if actor is None:
        return
    disconnected, failed = [], []
    for connection_id in connection_ids:
        connection = db.session.scalar(sa.select(CalendarConnection).where(
            CalendarConnection.id == connection_id, CalendarConnection.company_id == actor.company_id))
        if connection is None:  # removed meanwhile, e.g. by its user
            continue
        summary = {"user": connection.user.email, "kind": connection.kind.value,
                   "google_email": connection.google_email, "status": connection.status.value}
        try:
            disconnect(connection, actor)
            db.session.commit()  # its token is already revoked at Google: keep that even if a later one fails
            disconnected.append(summary)
        except Exception:
            db.session.rollback()
            log.exception("disconnect-all: connection %s could not be disconnected", connection_id)
            failed.append(summary)
    record(actor, "settings.disconnect_all", target=f"role:{role}", before={"connections": [*disconnected, *failed]},
           after={"disconnected": len(disconnected), "failed": [f["user"] for f in failed]})
    db.session.commit()
