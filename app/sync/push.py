"""Portal → Google: batched, idempotent upserts and deletes for one connection."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from ..extensions import db
from ..google import GoogleError, PermanentError
from ..google.client import BatchCall, CalendarClient
from ..models import ITEM_MODELS, CalendarConnection, EventLink, PendingPush, SyncRun, utcnow
from ..models.items import PortalItem
from ..portal.queries import PARTICIPANTS, participant_items
from .mapping import content_hash, event_body, event_id_for
from .pull import settle_conflict, unlink_after_google_delete
from .runs import add_error

CHUNK = 500  # items loaded at a time: memory stays flat however many items there are
Cursor = tuple[str, int]  # (item kind, last item id pushed): where a sliced Push Existing Data goes on


@dataclass
class Upsert:
    item: PortalItem
    link: EventLink | None
    body: dict
    digest: str


def _links(connection: CalendarConnection, kind: str, item_ids: Sequence[int]) -> dict[int, EventLink]:
    rows = db.session.scalars(sa.select(EventLink).where(
        EventLink.connection_id == connection.id, EventLink.item_type == kind, EventLink.item_id.in_(item_ids)))
    return {link.item_id: link for link in rows}


def _save_link(connection: CalendarConnection, upsert: Upsert, response: dict) -> None:
    link = upsert.link or EventLink(company_id=connection.company_id, connection_id=connection.id,
                                    item_type=upsert.item.kind, item_id=upsert.item.id,
                                    google_event_id=response["id"])
    link.etag, link.content_hash, link.synced_at = response.get("etag"), upsert.digest, utcnow()
    db.session.add(link)


def _insert_call(connection: CalendarConnection, upsert: Upsert) -> BatchCall:
    """An insert under the deterministic id: retrying it can never create a second event."""
    event_id = event_id_for(connection, upsert.item.kind, upsert.item.id)
    return BatchCall("insert", event_id, {**upsert.body, "id": event_id}, key=upsert)


def _failed(run: SyncRun, kind: str, item_id: int, what: str, error: GoogleError,
            retry: set[tuple[str, int]] | None) -> None:
    add_error(run, f"{kind} #{item_id} {what}: {error}")
    if retry is not None and not isinstance(error, PermanentError):
        retry.add((kind, item_id))  # still failing after the client's retries: keep it queued


def _upsert_failed(run: SyncRun, upsert: Upsert, error: GoogleError, retry: set[tuple[str, int]] | None) -> None:
    _failed(run, upsert.item.kind, upsert.item.id, f"“{upsert.item.title[:60]}”", error, retry)


def upsert_items(client: CalendarClient, connection: CalendarConnection, items: Iterable[PortalItem],
                 run: SyncRun, retry: set[tuple[str, int]] | None = None) -> None:
    """Insert or patch each item's event; unchanged items (same content hash) cost no request.

    Items that still fail with a transient error are added to `retry`.
    """
    items = list(items)
    if not items:
        return
    links = {}
    for kind in {item.kind for item in items}:
        links.update({(kind, i): link for i, link in _links(
            connection, kind, [it.id for it in items if it.kind == kind]).items()})
    upserts = []
    for item in items:
        body = event_body(connection, item)
        upserts.append(Upsert(item, links.get((item.kind, item.id)), body, content_hash(body)))
    todo = [u for u in upserts if not (u.link and u.link.content_hash == u.digest)]
    run.done += len(upserts) - len(todo)

    calls = [BatchCall("patch", u.link.google_event_id, u.body, key=u, if_match=u.link.etag) if u.link else
             _insert_call(connection, u) for u in todo]
    second_round = []  # 409 inserts and conflicts the portal won become plain patches
    for result in client.batch(connection.calendar_id, calls):
        upsert: Upsert = result.call.key
        if result.error is None:
            _save_link(connection, upsert, result.response)
            if result.call.method == "insert":
                run.created += 1
            else:
                run.updated += 1
            run.done += 1
        elif result.call.method == "insert" and result.error.status == 409:
            # Already there (a retried run, or a worker that died before saving the link): patch it.
            second_round.append(BatchCall("patch", result.call.event_id, upsert.body, key=upsert))
        elif result.call.method == "patch" and result.error.status == 412:
            # Changed in Google since our last sync: both sides changed, the later change wins.
            event = client.get_event(connection.calendar_id, result.call.event_id)
            if settle_conflict(connection, upsert.item, upsert.link, event, run):
                second_round.append(BatchCall("patch", result.call.event_id, upsert.body, key=upsert))
            else:
                run.done += 1
        elif result.call.method == "patch" and result.error.status in (404, 410):
            # Deleted in Google before a pull noticed (or on a 1-way connection, which never pulls).
            unlink_after_google_delete(connection, upsert.link, upsert.item, run)
            run.done += 1
        else:
            _upsert_failed(run, upsert, result.error, retry)
            run.done += 1
    for result in client.batch(connection.calendar_id, second_round) if second_round else ():
        upsert = result.call.key
        run.done += 1
        if result.error is None:
            _save_link(connection, upsert, result.response)
            run.updated += 1
        else:
            _upsert_failed(run, upsert, result.error, retry)


def delete_events(client: CalendarClient, connection: CalendarConnection, links: Sequence[EventLink],
                  run: SyncRun, retry: set[tuple[str, int]] | None = None) -> None:
    """Delete the Google copies; an event already gone counts as deleted."""
    calls = [BatchCall("delete", link.google_event_id, key=link) for link in links]
    for result in client.batch(connection.calendar_id, calls) if calls else ():
        link: EventLink = result.call.key
        run.done += 1
        if result.error is None or result.error.status in (404, 410):
            db.session.delete(link)
            run.deleted += 1
        else:
            _failed(run, link.item_type, link.item_id, "(delete)", result.error, retry)


def push_existing_data(client: CalendarClient, connection: CalendarConnection, run: SyncRun,
                       after: Cursor | None = None, limit: int | None = None) -> Cursor | None:
    """Every item the user takes part in, in chunks by kind and id, progress committed after each chunk.

    Pushes at most `limit` items after `after` (the first slice counts the total) and returns where the
    next slice starts, or None once everything is in Google: a 100,000-item push runs as short slices so
    the worker can take other people's edits in between (see `jobs.sync.continue_push_existing`).
    """
    if after is None:
        run.total = sum(db.session.scalar(sa.select(sa.func.count()).select_from(
            participant_items(connection.user, model).with_only_columns(model.id).subquery()))
            for model in ITEM_MODELS.values())
        db.session.commit()
    kinds = list(ITEM_MODELS)
    left = limit
    for kind in kinds[kinds.index(after[0]) if after else 0:]:
        model, last_id = ITEM_MODELS[kind], after[1] if after and after[0] == kind else 0
        while True:
            if left is not None and left <= 0:
                return kind, last_id
            size = CHUNK if left is None else min(CHUNK, left)
            chunk = db.session.scalars(participant_items(connection.user, model).where(model.id > last_id)
                                       .limit(size).options(*PARTICIPANTS[kind])).all()
            if chunk:
                upsert_items(client, connection, chunk, run)
                db.session.commit()  # clean objects leave the (weak-referencing) identity map once dropped
                last_id = chunk[-1].id
                left = None if left is None else left - len(chunk)
            if len(chunk) < size:
                break  # this kind is done
    # Everything is now in Google: whatever was queued before this run is done.
    db.session.execute(sa.delete(PendingPush).where(PendingPush.connection_id == connection.id,
                                                    PendingPush.queued_at <= run.started_at))
    db.session.commit()
    return None


def push_pending(client: CalendarClient, connection: CalendarConnection, run: SyncRun) -> None:
    """Drain the outbox: upsert live items the user takes part in, delete the copies of the rest.

    A row leaves the outbox once its change is in Google; one that still fails with a transient error
    stays for the next sweep, and so does one whose item changed again meanwhile (newer `queued_at`).
    """
    attempted: set[int] = set()
    while True:
        pending = db.session.scalars(sa.select(PendingPush).where(
            PendingPush.connection_id == connection.id, PendingPush.id.not_in(attempted))
            .order_by(PendingPush.id).limit(CHUNK)).all()
        if not pending:
            return
        attempted.update(row.id for row in pending)
        run.total += len(pending)
        live: list[PortalItem] = []
        gone: list[tuple[str, int]] = []
        for kind, model in ITEM_MODELS.items():
            ids = [p.item_id for p in pending if p.item_type == kind]
            if not ids:
                continue
            found = {item.id: item for item in db.session.scalars(
                participant_items(connection.user, model).where(model.id.in_(ids)).options(*PARTICIPANTS[kind]))}
            live += found.values()
            gone += [(kind, i) for i in ids if i not in found]
        retry: set[tuple[str, int]] = set()
        upsert_items(client, connection, live, run, retry)
        stale_links = [link for kind, ids in _group(gone).items()
                       for link in _links(connection, kind, ids).values()]
        delete_events(client, connection, stale_links, run, retry)
        run.done += len(gone) - len(stale_links)
        # queued_at is the value just read from the row, so it matches exactly unless the item changed again.
        done = [(row.id, row.queued_at) for row in pending if (row.item_type, row.item_id) not in retry]
        if done:
            db.session.execute(sa.delete(PendingPush).where(sa.tuple_(PendingPush.id, PendingPush.queued_at).in_(done))
                               .execution_options(synchronize_session=False))
        db.session.commit()


def _group(pairs: list[tuple[str, int]]) -> dict[str, list[int]]:
    grouped: dict[str, list[int]] = {}
    for kind, item_id in pairs:
        grouped.setdefault(kind, []).append(item_id)
    return grouped
