"""Items that are not in Google, per connection, and why: recorded by the push, shown with a Retry.

One item's failure never stops the others: the push records it here as a code (`app.sync.notes`) and
carries on. Google being unavailable or busy is retried automatically with growing pauses (the outbox row
waits until `PendingPush.not_before`); a refusal (a 4xx that retrying cannot fix) or an item that cannot be
converted waits for the user's Retry or the item's next edit, so nothing is retried in a loop.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import ITEM_MODELS, CalendarConnection, FailureKind, SyncFailure, User, utcnow
from ..models.items import PortalItem
from .notes import Note
from .outbox import keep_pending, queue_push

FIRST_PAUSE = timedelta(minutes=1)
LONGEST_PAUSE = timedelta(hours=1)


def record_failure(connection: CalendarConnection, item_type: str, item_id: int, kind: FailureKind,
                   note: Note, detail: str | None = None) -> SyncFailure:
    """Create or update the item's marker for this connection; `attempts` counts the failures in a row."""
    failure = db.session.scalar(sa.select(SyncFailure).where(
        SyncFailure.connection_id == connection.id, SyncFailure.item_type == item_type,
        SyncFailure.item_id == item_id))
    if failure is None:
        failure = SyncFailure(company_id=connection.company_id, connection_id=connection.id, item_type=item_type,
                              item_id=item_id, kind=kind, attempts=0)
        db.session.add(failure)
    failure.kind, failure.failed_at = kind, utcnow()
    failure.code, failure.params, failure.detail = note.code.value, dict(note.params), (detail or "")[:500] or None
    failure.attempts = (failure.attempts or 0) + 1
    return failure


def next_attempt(failure: SyncFailure, now: datetime) -> datetime:
    """Exponential backoff from one minute to one hour: a long outage costs few requests."""
    return now + min(FIRST_PAUSE * 2 ** (failure.attempts - 1), LONGEST_PAUSE)


def clear_failures(connection: CalendarConnection, pairs: Iterable[tuple[str, int]]) -> None:
    """The items are in Google now (or deliberately gone from it): their markers describe the past."""
    pairs = list(pairs)
    if pairs:
        db.session.execute(sa.delete(SyncFailure).where(
            SyncFailure.connection_id == connection.id,
            sa.tuple_(SyncFailure.item_type, SyncFailure.item_id).in_(pairs)).execution_options(
            synchronize_session=False))


def keep_queued(connection: CalendarConnection, retry_at: dict[tuple[str, int], datetime]) -> None:
    """Outbox rows for items to try again, each not before its time."""
    keep_pending(db.session, [{"connection_id": connection.id, "item_type": kind, "item_id": item_id,
                               "not_before": when} for (kind, item_id), when in retry_at.items()])


def failures_since(connection_id: int, since: datetime) -> tuple[int, int]:
    """(items waiting to be sent again, items refused) that failed on this connection since `since`."""
    counts = dict(db.session.execute(sa.select(SyncFailure.kind, sa.func.count()).where(
        SyncFailure.connection_id == connection_id, SyncFailure.failed_at >= since).group_by(SyncFailure.kind)).all())
    return counts.get(FailureKind.RETRYING, 0), counts.get(FailureKind.REFUSED, 0)


def failures_for(user: User, item: PortalItem) -> list[SyncFailure]:
    """The markers of the user's own connections for this item (nobody sees another user's Google)."""
    return list(db.session.scalars(sa.select(SyncFailure).join(CalendarConnection).where(
        CalendarConnection.user_id == user.id, SyncFailure.item_type == item.kind, SyncFailure.item_id == item.id)))


def failed_items(connections: Sequence[CalendarConnection]) -> dict[int, list[tuple[SyncFailure, PortalItem]]]:
    """Each connection's markers with their live items, newest first: one query for the markers and one
    per item kind, however many connections (the admins' overview shows them all)."""
    found: dict[int, list[tuple[SyncFailure, PortalItem]]] = {c.id: [] for c in connections}
    if not found:
        return found
    failures = db.session.scalars(sa.select(SyncFailure).where(SyncFailure.connection_id.in_(found))
                                  .order_by(SyncFailure.failed_at.desc(), SyncFailure.id.desc())).all()
    items: dict[tuple[str, int], PortalItem] = {}
    for kind, model in ITEM_MODELS.items():
        ids = {f.item_id for f in failures if f.item_type == kind}
        if ids:
            items.update(((kind, item.id), item) for item in db.session.scalars(sa.select(model).where(
                model.id.in_(ids), model.deleted_at.is_(None))))
    for failure in failures:
        item = items.get((failure.item_type, failure.item_id))
        if item is not None and item.company_id == failure.company_id:
            found[failure.connection_id].append((failure, item))
    return found


def retry_failure(failure: SyncFailure) -> None:
    """The user's Retry: queue the item for its connection now. Does not commit; the push is scheduled
    after the caller's commit (the outbox's after-commit hook)."""
    queue_push(db.session, [{"connection_id": failure.connection_id, "item_type": failure.item_type,
                             "item_id": failure.item_id}])
    db.session.delete(failure)
