"""Reconciling one item with its Google copy: conflicts (the later change wins), edits the portal does not
allow (undone in Google), values the portal cannot hold (written back), and deletes made in Google.

Push and pull both meet these cases (a pull reads Google's change; a push meets it as a 412 or a 404),
so the rules live here once and both call them.
"""
from __future__ import annotations

from ..extensions import db
from ..models import (
    CalendarConnection,
    EventLink,
    SyncHistory,
    SyncRun,
    utcnow,
)
from ..models.items import PortalItem
from .mapping import (
    NotPushable,
    apply_event_to_item,
    content_hash,
    differing_fields,
    event_body,
    google_timestamp,
    snapshot,
)
from .outbox import keep_pending, queue_push


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
    queue_push(db.session, [_outbox_row(connection, item)])


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
    google_updated = google_timestamp(event.get("updated")) or utcnow()
    deleted = event.get("status") == "cancelled"
    if not deleted and not item.changeable_by(connection.user):
        _history(connection, item, "google_change_undone", {"google": _google_version(event)})
        link.etag = event.get("etag")
        return True
    if item.updated_at > google_updated:
        _history(connection, item, "conflict_portal_won", {"lost": "deleted" if deleted else _google_version(event)})
        link.etag = event.get("etag")
        keep_pending(db.session, [_outbox_row(connection, item)])  # sent by the push that met it, or the next
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


def _outbox_row(connection: CalendarConnection, item: PortalItem) -> dict:
    return {"connection_id": connection.id, "item_type": item.kind, "item_id": item.id}


def _history(connection: CalendarConnection, item: PortalItem, action: str, detail: dict) -> None:
    db.session.add(SyncHistory(company_id=connection.company_id, item_type=item.kind, item_id=item.id,
                               user_id=connection.user_id, action=action, detail=detail))


def _google_version(event: dict) -> dict:
    return {"title": event.get("summary"), "description": event.get("description"),
            "location": event.get("location"), "start": event.get("start"), "end": event.get("end")}
