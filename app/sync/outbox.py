"""Every committed change to an item queues a push for each connected participant, automatically.

SQLAlchemy session hooks see every change, whoever makes it (a view, a pull, a test), so no code
path can forget to sync. Rows go to the `PendingPush` outbox in the same transaction as the change, and
the session remembers their connections; after the commit, the job boundary takes them
(`pushes_after_commit`) and enqueues one coalesced push per connection. `create_app` installs both hooks
(`install`, and `jobs.sync.install_push_after_commit`): nothing here runs because a module was imported.

Everything that queues a push goes through `queue_push` (or `keep_pending` for rows that wait for a time of
their own); the session key behind them is this module's own.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy import event, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..models import Appointment, CalendarConnection, ConnectionStatus, PendingPush, utcnow
from ..models.items import PortalItem

_PENDING = "pcs_push_connections"  # connections that got outbox rows in this transaction
_SOURCE = "pcs_sync_source_connection"  # set while applying a pull: that connection already has the change


def queue_push(session: Session, rows: list[dict]) -> None:
    """Outbox rows in the caller's transaction ({connection_id, item_type, item_id}); each connection's push
    is scheduled once the transaction commits."""
    if rows:
        _upsert_pending(session.connection(), rows)
        session.info.setdefault(_PENDING, set()).update(row["connection_id"] for row in rows)


def keep_pending(session: Session, rows: list[dict]) -> None:
    """Outbox rows that wait for the next push or their `not_before` (a backoff): nothing is scheduled."""
    if rows:
        _upsert_pending(session.connection(), rows)


def pushes_after_commit(session: Session) -> set[int]:
    """The connections that got outbox rows in the transaction just committed (and forgets them)."""
    return session.info.pop(_PENDING, None) or set()


@contextmanager
def applying_pull(session: Session, connection_id: int) -> Iterator[None]:
    """While a pull applies Google's changes, the changed items are not queued back to the same connection."""
    session.info[_SOURCE] = connection_id
    try:
        yield
    finally:
        session.info.pop(_SOURCE, None)


def _affected_user_ids(item: PortalItem) -> set[int]:
    """Current participants plus anyone just removed (their copy must be deleted)."""
    state = inspect(item)
    if isinstance(item, Appointment):
        ids = {item.staff_id, item.contact_id}
    else:
        ids = {user.id for user in item.participants}
    for attr in item.participant_attrs:
        for former in state.attrs[attr].history.deleted or ():
            ids.add(former if isinstance(former, int) else former.id)
    ids.discard(None)
    return ids


def _upsert_pending(connection: sa.Connection, rows: list[dict]) -> None:
    """One row per (connection, item); a newer change moves `queued_at` so a running push keeps it, and
    makes the row due at once (`not_before` is only given for an item waiting after a failure)."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(PendingPush)
    now = utcnow()
    connection.execute(insert.on_conflict_do_update(
        index_elements=["connection_id", "item_type", "item_id"],
        set_={"queued_at": insert.excluded.queued_at, "not_before": insert.excluded.not_before}),
        [{"not_before": None, **row, "queued_at": now} for row in rows])


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
    source = session.info.get(_SOURCE)
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
    queue_push(session, pending)


def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def install() -> None:
    """Queue a push for every item change of every session (called by `create_app`; twice is harmless)."""
    for name, hook in (("after_flush", _queue_item_changes), ("after_rollback", _forget_after_rollback)):
        if not event.contains(Session, name, hook):
            event.listen(Session, name, hook)
