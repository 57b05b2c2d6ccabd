"""Google → portal (2-way only): incremental events.list with a sync token, echo-suppressed.

The sync token is saved only after the last page is applied, so a worker that dies halfway
starts again from the old token; every step below is idempotent, so re-applying is harmless.
"""
from __future__ import annotations

import logging

import sqlalchemy as sa

from ..extensions import db
from ..google import SyncTokenExpired
from ..google.client import CalendarClient
from ..models import (
    ITEM_MODELS,
    CalendarConnection,
    EventLink,
    GoogleEvent,
    RunKind,
    SyncRun,
)
from ..models.items import PortalItem
from .context import Sync
from .mapping import (
    content_hash,
    event_id_for,
    event_span,
    google_timestamp,
    portal_ref,
)
from .notes import Code, Note
from .outbox import applying_pull
from .polling import after_poll
from .reconcile import settle_conflict, take_google_version, undo_google_change, unlink_after_google_delete
from .watch import watch_or_poll

log = logging.getLogger(__name__)


def watch_and_pull(sync: Sync, _at: object = None, ask_again: bool = False) -> None:
    """A pull (2-way only). A connection without a channel (a first pull, a new calendar) asks Google for one
    first, unless Google refused it (the sweep asks again after WATCH_RETRY_HOURS; a person's "Sync now" at
    once: `ask_again`). A refused channel never fails the pull: the connection is polled instead."""
    connection = sync.connection
    if connection.pulls and not connection.channel_id and (ask_again or not connection.live_updates_problem):
        watch_or_poll(sync.client, connection, sync.settings)
    pull_changes(sync.client, connection, sync.run)


def poll(sync: Sync, _at: object = None) -> None:
    """The safety net's pull: Google's changes, then whether the channel missed them and when to poll next."""
    previous_sync = sync.connection.last_synced_at
    pull_changes(sync.client, sync.connection, sync.run)
    after_poll(sync.connection, sync.run, previous_sync, sync.settings)


def pull_changes(client: CalendarClient, connection: CalendarConnection, run: SyncRun) -> None:
    if not connection.pulls:
        return  # a 1-way connection never pulls
    try:
        _pull(client, connection, run, connection.sync_token)
    except SyncTokenExpired:
        db.session.rollback()
        run.kind = RunKind.FULL_RESYNC
        connection.sync_token = None
        _pull(client, connection, run, None)


def _pull(client: CalendarClient, connection: CalendarConnection, run: SyncRun, sync_token: str | None) -> None:
    full = sync_token is None
    seen_native: set[str] = set()
    with applying_pull(db.session, connection.id):
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


def _apply_page(connection: CalendarConnection, events: list[dict], run: SyncRun, seen_native: set[str]) -> None:
    """The page in one savepoint; if it fails, event by event, so one event that cannot be taken in holds back
    neither the others nor the sync token (else every later pull would fail on it again)."""
    try:
        with db.session.begin_nested():
            _apply_events(connection, events, run, seen_native)
    except Exception:
        if len(events) == 1:
            _skip(connection, events[0], run)
        else:
            for event in events:
                _apply_page(connection, [event], run, seen_native)


def _skip(connection: CalendarConnection, event: dict, run: SyncRun) -> None:
    """The event stays as the portal had it until it next changes in Google; the logs keep the reason."""
    log.exception("connection %s: Google event %s could not be taken in", connection.id, event["id"])
    run.count_failure(Note(Code.EVENT_NOT_TAKEN_IN, {"title": (event.get("summary") or "").strip()[:80]}).as_json())


def _apply_events(connection: CalendarConnection, events: list[dict], run: SyncRun, seen_native: set[str]) -> None:
    """A page costs a fixed number of queries: links, native rows and the items that really changed.

    An event is ours when one of our links names its id, or when its id is the one we give its item (a push
    whose link was never saved). Google withholds everything but id, status and etag on deleted events, so a
    cancelled event is matched by id alone, never by its properties.
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
            seen_native.add(event["id"])  # first: if it fails, a full resync keeps its row rather than drop it
            _apply_native(connection, event, natives.get(event["id"]), run)
        elif ref[2] == connection.id and event["id"] == event_id_for(connection, *ref[:2]):
            ours.append((event, ref[:2], None))  # pushed, but the worker died before saving the link
        # else: a copy pushed for another portal user into a shared calendar, or a copy another app made of one
        # of ours, private properties and all: its item has its own event already.
    items = _load_items(connection, [ref for _, ref, _ in ours])
    for event, ref, link in ours:
        _apply_pushed(connection, event, ref, link, items.get(ref), run)


def _load_items(connection: CalendarConnection, refs: list[tuple[str, int]]) -> dict[tuple[str, int], PortalItem]:
    found: dict[tuple[str, int], PortalItem] = {}
    for kind, model in ITEM_MODELS.items():
        ids = [item_id for k, item_id in refs if k == kind]
        if ids:
            found.update(((kind, item.id), item) for item in db.session.scalars(sa.select(model).where(
                model.id.in_(ids), model.company_id == connection.company_id).options(*model.with_participants())))
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
    row.updated = google_timestamp(event.get("updated"))


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
