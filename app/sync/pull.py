"""Google → portal (2-way only): incremental events.list with a sync token, echo-suppressed.

The sync token is saved only after the last page is applied, so a worker that dies halfway
starts again from the old token; every step below is idempotent, so re-applying is harmless.
"""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from ..extensions import db
from ..google import SyncTokenExpired
from ..google.client import CalendarClient
from ..models import (
    ITEM_MODELS,
    CalendarConnection,
    EventLink,
    GoogleEvent,
    SyncHistory,
    SyncRun,
    utcnow,
)
from ..models.items import PortalItem
from ..portal.queries import PARTICIPANTS
from .mapping import (
    NotPushable,
    apply_event_to_item,
    content_hash,
    differing_fields,
    event_body,
    event_span,
    portal_ref,
    snapshot,
)
from .outbox import PENDING_KEY, SOURCE_KEY, upsert_pending


def pull_changes(client: CalendarClient, connection: CalendarConnection, run: SyncRun) -> None:
    if not connection.pulls:
        return  # a 1-way connection never pulls
    try:
        _pull(client, connection, run, connection.sync_token)
    except SyncTokenExpired:
        db.session.rollback()
        run.kind = "full_resync"
        run.message = "Google asked for a full resync; done without duplicates."
        connection.sync_token = None
        _pull(client, connection, run, None)


def _pull(client: CalendarClient, connection: CalendarConnection, run: SyncRun, sync_token: str | None) -> None:
    full = sync_token is None
    seen_native: set[str] = set()
    db.session.info[SOURCE_KEY] = connection.id
    try:
        for page in client.event_pages(connection.calendar_id, sync_token):
            events = page.get("items", [])
            run.total += len(events)
            _apply_page(connection, events, run, seen_native)
            run.done += len(events)
            db.session.commit()
            next_token = page.get("nextSyncToken")
        if full:  # native events that no longer exist in Google
            db.session.execute(sa.delete(GoogleEvent).where(
                GoogleEvent.connection_id == connection.id, GoogleEvent.google_event_id.not_in(seen_native)))
        connection.sync_token = next_token
        db.session.commit()
    finally:
        db.session.info.pop(SOURCE_KEY, None)


def _apply_page(connection: CalendarConnection, events: list[dict], run: SyncRun, seen_native: set[str]) -> None:
    """A page costs a fixed number of queries: links, native rows and the items that really changed.

    An event is ours when one of our links names its id. Google withholds everything but id, status and
    etag on deleted events, so a cancelled event is matched by id alone, never by its properties.
    """
    ids = [e["id"] for e in events]
    links = {link.google_event_id: link for link in db.session.scalars(sa.select(EventLink).where(
        EventLink.connection_id == connection.id, EventLink.google_event_id.in_(ids)))}
    natives = {row.google_event_id: row for row in db.session.scalars(sa.select(GoogleEvent).where(
        GoogleEvent.connection_id == connection.id, GoogleEvent.google_event_id.in_(ids)))}
    ours: list[tuple[dict, tuple[str, int], EventLink | None]] = []
    for event in events:
        link = links.get(event["id"])
        cancelled = event.get("status") == "cancelled"
        if link is not None:
            if cancelled or link.etag != event.get("etag"):  # same etag: our own write coming back
                ours.append((event, (link.item_type, link.item_id), link))
        elif cancelled:
            native = natives.get(event["id"])
            if native is not None:
                db.session.delete(native)
                run.deleted += 1
        elif (ref := portal_ref(event)) is None:
            _apply_native(connection, event, natives.get(event["id"]), run)
            seen_native.add(event["id"])
        elif ref[2] == connection.id:  # pushed, but the worker died before saving the link
            ours.append((event, ref[:2], None))
        # else: a copy pushed for another portal user into a shared calendar.
    items = _load_items(connection, [ref for _, ref, _ in ours])
    for event, ref, link in ours:
        _apply_pushed(connection, event, ref, link, items.get(ref), run)


def _load_items(connection: CalendarConnection, refs: list[tuple[str, int]]) -> dict[tuple[str, int], PortalItem]:
    found: dict[tuple[str, int], PortalItem] = {}
    for kind, model in ITEM_MODELS.items():
        ids = [item_id for k, item_id in refs if k == kind]
        if ids:
            found.update(((kind, item.id), item) for item in db.session.scalars(sa.select(model).where(
                model.id.in_(ids), model.company_id == connection.company_id).options(*PARTICIPANTS[kind])))
    return found


def _apply_native(connection: CalendarConnection, event: dict, row: GoogleEvent | None, run: SyncRun) -> None:
    if row is None:
        row = GoogleEvent(company_id=connection.company_id, connection_id=connection.id, google_event_id=event["id"])
        db.session.add(row)
        run.created += 1
    else:
        run.updated += 1
    all_day, start, end = event_span(event)
    row.recurring_event_id = event.get("recurringEventId")
    row.summary = (event.get("summary") or "(No title)")[:500]
    row.description = event.get("description") or ""
    row.location = (event.get("location") or "")[:500]
    row.html_link = (event.get("htmlLink") or "")[:500]
    row.all_day = all_day
    row.start_at, row.end_at = (None, None) if all_day else (start, end)
    row.start_date, row.end_date = (start, end) if all_day else (None, None)
    row.updated = _google_time(event.get("updated"))


def _apply_pushed(connection: CalendarConnection, event: dict, ref: tuple[str, int], link: EventLink | None,
                  item: PortalItem | None, run: SyncRun) -> None:
    kind, item_id = ref
    if event.get("status") == "cancelled":
        unlink_after_google_delete(connection, link, item, run)  # deletes keep their rule: never destroy shared data
        return
    if item is None or item.deleted_at is not None or not item.involves(connection.user):
        return  # our own delete of it is queued or done
    if link is None:
        link = EventLink(company_id=connection.company_id, connection_id=connection.id, item_type=kind,
                         item_id=item_id, google_event_id=event["id"])
        db.session.add(link)
    google_hash = content_hash(event)
    if google_hash == link.content_hash:
        link.etag = event.get("etag")
        return
    if not item.changeable_by(connection.user):
        undo_google_change(connection, item, link, event)
        return
    portal_changed = link.synced_at is not None and item.updated_at > link.synced_at
    if portal_changed:
        settle_conflict(connection, item, link, event, run)
    else:
        take_google_version(connection, item, link, event, run)


def undo_google_change(connection: CalendarConnection, item: PortalItem, link: EventLink, event: dict) -> None:
    """A change this user may not make in the portal is not taken from their Google either: the portal's
    version is written back to their Google copy, and the item's history says so."""
    body = _portal_body(connection, item)
    fields = differing_fields(event, body) if body else []
    _history(connection, item, "google_change_undone", {"fields": fields, "google": _google_version(event)})
    _write_back(connection, item, link, event)


def _write_back(connection: CalendarConnection, item: PortalItem, link: EventLink, event: dict) -> None:
    """Queue a push of the portal's version over Google's `event`, scheduled as soon as the pull commits.

    The link takes Google's etag (so the patch's precondition holds) and Google's hash (so the push sees
    a difference to write).
    """
    link.etag, link.content_hash = event.get("etag"), content_hash(event)
    _ensure_pending(connection, item)
    db.session.info.setdefault(PENDING_KEY, set()).add(connection.id)


def _portal_body(connection: CalendarConnection, item: PortalItem) -> dict | None:
    try:
        return event_body(connection, item)
    except NotPushable:  # its push removes the Google copy
        return None


def settle_conflict(connection: CalendarConnection, item: PortalItem, link: EventLink, event: dict,
                    run: SyncRun) -> bool:
    """Both sides changed since the last sync: the later change wins, the other is kept in the history.
    A Google change the user may not make in the portal never wins (deletes keep their own rule).

    Returns True when the portal's version won (it must then be pushed over Google's).
    """
    google_updated = _google_time(event.get("updated")) or utcnow()
    deleted = event.get("status") == "cancelled"
    if not deleted and not item.changeable_by(connection.user):
        _history(connection, item, "google_change_undone", {"google": _google_version(event)})
        link.etag = event.get("etag")
        return True
    if item.updated_at > google_updated:
        _history(connection, item, "conflict_portal_won", {"lost": "deleted" if deleted else _google_version(event)})
        link.etag = event.get("etag")
        _ensure_pending(connection, item)
        return True
    if deleted:
        unlink_after_google_delete(connection, link, item, run)
        return False
    _history(connection, item, "conflict_google_won", {"lost": snapshot(item)})
    take_google_version(connection, item, link, event, run)
    return False


def take_google_version(connection: CalendarConnection, item: PortalItem, link: EventLink, event: dict,
                        run: SyncRun) -> None:
    """Google's edit becomes the portal's. What the portal cannot hold (an empty or over-long title, an
    appointment's description) is answered by writing the portal's value back, with a history entry, so
    the two sides agree after the next push instead of differing for ever."""
    changes = apply_event_to_item(event, item)
    if changes:
        run.updated += 1
        _history(connection, item, "changed_in_google", {"changes": changes})
    body = _portal_body(connection, item)
    if body is not None and content_hash(body) != content_hash(event):
        _history(connection, item, "google_value_not_taken", {"fields": differing_fields(event, body)})
        _write_back(connection, item, link, event)
    else:
        link.etag = event.get("etag")
        link.content_hash = content_hash(body or event)
    db.session.flush()  # sets item.updated_at; the link must not look older than our own write
    link.synced_at = max(utcnow(), item.updated_at)


def unlink_after_google_delete(connection: CalendarConnection, link: EventLink, item: PortalItem | None,
                               run: SyncRun) -> None:
    """Deleted in Google: never destroy shared data; an item only this user has goes to the trash."""
    db.session.delete(link)
    run.deleted += 1
    if item is None or item.deleted_at is not None:
        return
    alone = [p.id for p in item.participants] == [connection.user_id]
    if alone:
        item.deleted_at = utcnow()
    _history(connection, item, "trashed_after_google_delete" if alone else "unlinked_after_google_delete", {})


def _ensure_pending(connection: CalendarConnection, item: PortalItem) -> None:
    upsert_pending(db.session.connection(), [{"connection_id": connection.id, "item_type": item.kind,
                                              "item_id": item.id}])


def _history(connection: CalendarConnection, item: PortalItem, action: str, detail: dict) -> None:
    db.session.add(SyncHistory(company_id=connection.company_id, item_type=item.kind, item_id=item.id,
                               user_id=connection.user_id, action=action, detail=detail))


def _google_version(event: dict) -> dict:
    return {"title": event.get("summary"), "description": event.get("description"),
            "location": event.get("location"), "start": event.get("start"), "end": event.get("end")}


def _google_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)
