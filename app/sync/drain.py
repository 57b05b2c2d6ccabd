"""The outbox's push: what item changes queued for one connection (`PendingPush` rows), sent to Google.

The body of a push run and the first half of "Sync now". A row leaves the outbox once its change is in
Google; one that still fails with a transient error waits for its backoff, and one whose item changed again
meanwhile stays for the next push.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from ..extensions import db
from ..google.client import CalendarClient
from ..models import ITEM_MODELS, CalendarConnection, EventLink, PendingPush, SyncRun, utcnow
from ..models.items import PortalItem
from .context import Sync
from .failures import clear_failures
from .push import Pair, Retry, delete_events, upsert_items

CHUNK = 500  # rows taken at a time: memory stays flat however many changes wait


def push_changes(sync: Sync, _at: object = None) -> None:
    """The outbox's push (the body of a push run and of "Sync now"): nothing while Google's use limit pauses
    the connection's writes; the job scheduled for the pause's end pushes then."""
    if not sync.connection.writes_paused:
        push_pending(sync.client, sync.connection, sync.run)


def push_pending(client: CalendarClient, connection: CalendarConnection, run: SyncRun) -> None:
    """Drain the outbox: upsert live items the user takes part in, delete the copies of the rest.

    A row leaves the outbox once its change is in Google; one that still fails with a transient error
    stays for the next sweep, and so does one whose item changed again meanwhile (newer `queued_at`).
    """
    attempted: set[int] = set()
    now = utcnow()
    while pending := db.session.scalars(sa.select(PendingPush).where(
            PendingPush.connection_id == connection.id, PendingPush.due(now), PendingPush.id.not_in(attempted))
            .order_by(PendingPush.id).limit(CHUNK)).all():
        attempted.update(row.id for row in pending)
        run.total += len(pending)
        live, gone = _live_and_gone(connection, pending)
        retry: Retry = {}
        upsert_items(client, connection, live, run, retry)
        stale_links = _links_of_pairs(connection, gone)
        delete_events(client, connection, stale_links, run, retry)
        run.done += len(gone) - len(stale_links)
        clear_failures(connection, gone)  # trashed, or no longer the user's: nothing is missing from Google
        _settle_outbox(pending, retry)
        db.session.commit()


def _live_and_gone(connection: CalendarConnection, pending: Sequence[PendingPush]) -> tuple[list[PortalItem],
                                                                                              list[Pair]]:
    """The rows' items the user still takes part in, and the rest (deleted, or no longer theirs)."""
    live: list[PortalItem] = []
    gone: list[Pair] = []
    for kind, model in ITEM_MODELS.items():
        ids = [p.item_id for p in pending if p.item_type == kind]
        if ids:
            found = {item.id: item for item in db.session.scalars(
                model.of_participant(connection.user).where(model.id.in_(ids)).options(*model.with_participants()))}
            live += found.values()
            gone += [(kind, i) for i in ids if i not in found]
    return live, gone


def _links_of_pairs(connection: CalendarConnection, pairs: list[Pair]) -> list[EventLink]:
    if not pairs:
        return []
    return list(db.session.scalars(sa.select(EventLink).where(
        EventLink.connection_id == connection.id, sa.tuple_(EventLink.item_type, EventLink.item_id).in_(pairs))))


def _settle_outbox(pending: Sequence[PendingPush], retry: Retry) -> None:
    """Rows whose change is in Google leave the outbox; the rest waits for its backoff. Both only if the item
    did not change again meanwhile (`queued_at` is the value just read, so it matches exactly unless it did)."""
    done = [(row.id, row.queued_at) for row in pending if (row.item_type, row.item_id) not in retry]
    if done:
        db.session.execute(sa.delete(PendingPush).where(sa.tuple_(PendingPush.id, PendingPush.queued_at).in_(done))
                           .execution_options(synchronize_session=False))
    for row in pending:
        if (row.item_type, row.item_id) in retry:
            db.session.execute(sa.update(PendingPush).where(
                PendingPush.id == row.id, PendingPush.queued_at == row.queued_at).values(
                not_before=retry[(row.item_type, row.item_id)]).execution_options(synchronize_session=False))
