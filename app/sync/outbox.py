"""Every committed change to an item queues a push for each connected participant, automatically.

SQLAlchemy session hooks see every change, whoever makes it (a view, a pull, a test), so no code
path can forget to sync. Rows go to the `PendingPush` outbox in the same transaction as the change;
the connections are noted under PENDING_KEY and `jobs.sync` enqueues their pushes only after the commit,
coalesced per connection (the job boundary enqueues; the engine never imports it).
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import event, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..models import Appointment, CalendarConnection, ConnectionStatus, Event, PendingPush, Task, utcnow
from ..models.items import PortalItem

PENDING_KEY = "pcs_push_connections"
SOURCE_KEY = "pcs_sync_source_connection"  # set while applying a pull: that connection already has the change

_PARTICIPANT_ATTRS = {Task: ("assignees",), Event: ("attendees",),
                      Appointment: ("staff_id", "contact_id", "staff", "contact")}


def _affected_user_ids(item: PortalItem) -> set[int]:
    """Current participants plus anyone just removed (their copy must be deleted)."""
    state = inspect(item)
    if isinstance(item, Appointment):
        ids = {item.staff_id, item.contact_id}
    else:
        ids = {user.id for user in item.participants}
    for attr in _PARTICIPANT_ATTRS[type(item)]:
        for former in state.attrs[attr].history.deleted or ():
            ids.add(former if isinstance(former, int) else former.id)
    ids.discard(None)
    return ids


def upsert_pending(connection: sa.Connection, rows: list[dict]) -> None:
    """One row per (connection, item); a newer change moves `queued_at` so a running push keeps it."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(PendingPush)
    now = utcnow()
    connection.execute(insert.on_conflict_do_update(
        index_elements=["connection_id", "item_type", "item_id"], set_={"queued_at": insert.excluded.queued_at}),
        [{**row, "queued_at": now} for row in rows])


@event.listens_for(Session, "after_flush")
def _queue_item_changes(session: Session, _context) -> None:
    changed = [obj for obj in (*session.new, *session.dirty, *session.deleted)
               if isinstance(obj, PortalItem) and (obj in session.new or obj in session.deleted
                                                   or session.is_modified(obj))]
    if not changed:
        return
    user_ids = {(type(item).kind, item.id): _affected_user_ids(item) for item in changed}
    all_users = set().union(*user_ids.values())
    if not all_users:
        return
    source = session.info.get(SOURCE_KEY)
    conn = session.connection()
    rows = conn.execute(sa.select(CalendarConnection.id, CalendarConnection.user_id).where(
        CalendarConnection.user_id.in_(all_users), CalendarConnection.calendar_id.is_not(None),
        # A connection waiting for its user to reconnect keeps collecting changes, so none is lost.
        CalendarConnection.status.in_((ConnectionStatus.ACTIVE, ConnectionStatus.RECONNECT)))).all()
    by_user: dict[int, list[int]] = {}
    for connection_id, user_id in rows:
        if connection_id != source:
            by_user.setdefault(user_id, []).append(connection_id)
    pending = [{"connection_id": cid, "item_type": kind, "item_id": item_id}
               for (kind, item_id), users in user_ids.items() for uid in users for cid in by_user.get(uid, ())]
    if pending:
        upsert_pending(conn, pending)
        session.info.setdefault(PENDING_KEY, set()).update(row["connection_id"] for row in pending)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)
