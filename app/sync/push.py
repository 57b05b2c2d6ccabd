"""Portal → Google: batched, idempotent upserts and deletes for one connection.

Bulk runs (Push Existing Data, a move, a removal) call `upsert_items` and `delete_events` a chunk at a time
(`app.sync.bulk`); the outbox's push (`app.sync.drain`) calls them for what item changes queued.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ..extensions import db
from ..google import GoogleError, TryLater
from ..google.client import BatchCall, BatchResult, CalendarClient
from ..models import CalendarConnection, EventLink, FailureKind, SyncRun, utcnow
from ..models.items import PortalItem
from .failures import FIRST_PAUSE, clear_failures, next_attempt, record_failure
from .mapping import NotPushable, asks_for_meet, content_hash, event_body, event_id_for
from .meet import remember_meet
from .notes import Code, Note, detail_of, item_problem
from .reconcile import settle_conflict, unlink_after_google_delete

log = logging.getLogger(__name__)

Retry = dict[tuple[str, int], datetime]  # items to push again, each not before its time
Pair = tuple[str, int]  # (item kind, item id)


@dataclass
class Upsert:
    item: PortalItem
    link: EventLink | None
    body: dict
    digest: str


def _links(connection: CalendarConnection, items: Sequence[PortalItem]) -> dict[Pair, EventLink]:
    """The items' links, one query per kind among them."""
    links: dict[Pair, EventLink] = {}
    for kind in {item.kind for item in items}:
        links.update(((kind, link.item_id), link) for link in db.session.scalars(sa.select(EventLink).where(
            EventLink.connection_id == connection.id, EventLink.item_type == kind,
            EventLink.item_id.in_([item.id for item in items if item.kind == kind]))))
    return links


def _save_link(connection: CalendarConnection, upsert: Upsert, response: dict) -> None:
    link = upsert.link or EventLink(company_id=connection.company_id, connection_id=connection.id,
                                    item_type=upsert.item.kind, item_id=upsert.item.id,
                                    google_event_id=response["id"])
    # Google's answer, not our body: what Google added (a Meet) is known now, so its echo is no change to pull.
    link.etag, link.content_hash, link.synced_at = response.get("etag"), content_hash(response), utcnow()
    db.session.add(link)
    remember_meet(connection, upsert.item, response)


def _insert_call(connection: CalendarConnection, upsert: Upsert) -> BatchCall:
    """An insert under the deterministic id: retrying it can never create a second event."""
    event_id = event_id_for(connection, upsert.item.kind, upsert.item.id)
    return BatchCall("insert", event_id, {**upsert.body, "id": event_id}, key=upsert)


def _failed(connection: CalendarConnection, run: SyncRun, item: PortalItem, failure: FailureKind, note: Note,
            retry: Retry | None, detail: str | None = None) -> None:
    """One item failed: recorded on the item and in the run, as a code; the others carry on."""
    run.count_failure({**note.as_json(), "title": (item.title or "")[:80]})
    marker = record_failure(connection, item.kind, item.id, failure, note, detail)
    if retry is not None and failure is FailureKind.RETRYING:
        retry[(item.kind, item.id)] = next_attempt(marker, utcnow())


def _google_refused(connection: CalendarConnection, run: SyncRun, upsert: Upsert, error: GoogleError,
                    retry: Retry | None) -> None:
    log.info("push of %s to connection %s failed: %s (%s)", upsert.item.ref, connection.id, error, error.reason)
    _failed(connection, run, upsert.item, *item_problem(error), retry, detail_of(error))


def _bodies(connection: CalendarConnection, items: list[PortalItem], links: dict[Pair, EventLink],
            run: SyncRun) -> tuple[list[Upsert], list[EventLink]]:
    """Each item's event body; an item that cannot have one fails alone (its Google copy, if any, goes)."""
    upserts, unpushable = [], []
    for item in items:
        link = links.get((item.kind, item.id))
        try:
            body = event_body(connection, item)
        except NotPushable:
            record_failure(connection, item.kind, item.id, FailureKind.NOT_SYNCED, Note(Code.NO_DUE_DATE))
            if link is None:
                run.done += 1
            else:
                unpushable.append(link)  # counted done by its delete
            continue
        except Exception as exc:  # an item the mapping cannot handle must not stop the others
            log.exception("could not map %s for connection %s", item.ref, connection.id)
            _failed(connection, run, item, FailureKind.REFUSED, Note(Code.ITEM_UNCONVERTIBLE), None, detail_of(exc))
            run.done += 1
            continue
        upserts.append(Upsert(item, link, body, content_hash(body)))
    return upserts, unpushable


def upsert_items(client: CalendarClient, connection: CalendarConnection, items: Iterable[PortalItem],
                 run: SyncRun, retry: Retry | None = None) -> None:
    """Insert or patch each item's event; unchanged items (same content hash) cost no request, unless the copy
    still has to ask Google for its Meet (the Meet is no synced text: a choice of Meet alone changes no hash).

    Items that fail for a reason that passes (Google unavailable or busy) are added to `retry`; refused
    or unconvertible ones are marked and wait for the user's Retry or their next edit.
    """
    items = list(items)
    if not items:
        return
    upserts, unpushable = _bodies(connection, items, _links(connection, items), run)
    if unpushable:  # e.g. a task whose due date was removed: its old copy would be wrong
        delete_events(client, connection, unpushable, run, retry, keep_failures=True)
    todo = [u for u in upserts if not (u.link and u.link.content_hash == u.digest and not asks_for_meet(u.body))]
    run.done += len(upserts) - len(todo)
    succeeded: list[Pair] = [(u.item.kind, u.item.id) for u in upserts if u not in todo]
    calls = [BatchCall("patch", u.link.google_event_id, u.body, key=u, if_match=u.link.etag) if u.link else
             _insert_call(connection, u) for u in todo]
    # 409 inserts and conflicts the portal won become plain patches, sent in a second round.
    second_round = [again for result in client.batch(connection.calendar_id, calls)
                    if (again := _answered(client, connection, run, result, succeeded, retry)) is not None]
    for result in client.batch(connection.calendar_id, second_round) if second_round else ():
        run.done += 1
        if result.error is None:
            _saved(connection, result, succeeded)
            run.updated += 1
        else:
            _google_refused(connection, run, result.call.key, result.error, retry)
    clear_failures(connection, succeeded)


def _saved(connection: CalendarConnection, result: BatchResult, succeeded: list[Pair]) -> None:
    upsert: Upsert = result.call.key
    _save_link(connection, upsert, result.response)
    succeeded.append((upsert.item.kind, upsert.item.id))


def _answered(client: CalendarClient, connection: CalendarConnection, run: SyncRun, result: BatchResult,
              succeeded: list[Pair], retry: Retry | None) -> BatchCall | None:
    """Google's answer to one upsert; returns the patch to send in the second round, if one is needed."""
    upsert: Upsert = result.call.key
    method, status = result.call.method, result.error.status if result.error else None
    if result.error is None:
        _saved(connection, result, succeeded)
        run.created, run.updated = run.created + (method == "insert"), run.updated + (method != "insert")
    elif method == "insert" and status == 409:
        # Already there (a retried run, or a worker that died before saving the link): patch it.
        return BatchCall("patch", result.call.event_id, upsert.body, key=upsert)
    elif method == "patch" and status == 412:
        if (again := _conflict(client, connection, run, upsert, result.call.event_id, retry)) is not None:
            return again
    elif method == "patch" and status in (404, 410):
        # Deleted in Google before a pull noticed (or on a 1-way connection, which never pulls).
        unlink_after_google_delete(connection, upsert.link, upsert.item, run)
    else:
        _google_refused(connection, run, upsert, result.error, retry)
    run.done += 1
    return None


def _conflict(client: CalendarClient, connection: CalendarConnection, run: SyncRun, upsert: Upsert,
              event_id: str, retry: Retry | None) -> BatchCall | None:
    """Changed in Google since our last sync: both sides changed, the later change wins."""
    try:
        event = client.get_event(connection.calendar_id, event_id)
    except GoogleError as exc:
        if isinstance(exc, TryLater) and exc.wait_seconds:
            raise  # Google asks the work to wait (`bulk.in_chunk`, `engine.perform`): not this item's failure
        _google_refused(connection, run, upsert, exc, retry)
        return None
    if settle_conflict(connection, upsert.item, upsert.link, event, run):
        return BatchCall("patch", event_id, upsert.body, key=upsert)
    return None


def delete_events(client: CalendarClient, connection: CalendarConnection, links: Sequence[EventLink],
                  run: SyncRun, retry: Retry | None = None, keep_failures: bool = False) -> None:
    """Delete the Google copies; an event already gone counts as deleted.

    A refused delete is reported and not retried in a loop; an unavailable Google is tried again later.
    """
    calls = [BatchCall("delete", link.google_event_id, key=link) for link in links]
    deleted: list[Pair] = []
    for result in client.batch(connection.calendar_id, calls) if calls else ():
        link: EventLink = result.call.key
        run.done += 1
        if result.error is None or result.error.status in (404, 410):
            db.session.delete(link)
            deleted.append((link.item_type, link.item_id))
            run.deleted += 1
            continue
        failure, _note = item_problem(result.error)
        run.count_failure(Note(Code.COPY_NOT_DELETED, {"status": result.error.status}).as_json())
        if retry is not None and failure is FailureKind.RETRYING:
            retry[(link.item_type, link.item_id)] = utcnow() + FIRST_PAUSE
    if not keep_failures:
        clear_failures(connection, deleted)
