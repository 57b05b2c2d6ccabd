"""Portal → Google: batched, idempotent upserts and deletes for one connection."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import partial

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..google import GoogleError, RateLimited
from ..google.budget import creations_today
from ..google.client import BatchCall, CalendarClient
from ..models import (
    ITEM_MODELS,
    CalendarConnection,
    Event,
    EventLink,
    FailureKind,
    PendingPush,
    SyncRun,
    Task,
    User,
    utcnow,
)
from ..models.items import PortalItem
from .failures import (
    FIRST_PAUSE,
    UNCONVERTIBLE,
    clear_failures,
    google_failure,
    keep_queued,
    next_attempt,
    record_failure,
)
from .mapping import NotPushable, content_hash, event_body, event_id_for
from .meet import remember_meet
from .reconcile import settle_conflict, unlink_after_google_delete
from .runs import add_error

CHUNK = 500  # items loaded at a time: memory stays flat however many items there are
# A slice waits this long for Google's per-minute quota in its worker (the budget's `take`); a longer wait, in
# the queue (a trip through the scheduler costs about a second, and the worker takes other work meanwhile).
WAIT_IN_WORKER_SECONDS = 3


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
    remember_meet(connection, upsert.item, response)


def _insert_call(connection: CalendarConnection, upsert: Upsert) -> BatchCall:
    """An insert under the deterministic id: retrying it can never create a second event."""
    event_id = event_id_for(connection, upsert.item.kind, upsert.item.id)
    return BatchCall("insert", event_id, {**upsert.body, "id": event_id}, key=upsert)


Retry = dict[tuple[str, int], datetime]  # items to push again, each not before its time


def _failed(connection: CalendarConnection, run: SyncRun, kind: str, item_id: int, title: str,
            failure: FailureKind, reason: str, retry: Retry | None) -> None:
    """One item failed: recorded on the item and in the run, in plain words; the others carry on."""
    add_error(run, f"“{title[:60]}”: {reason}")
    marker = record_failure(connection, kind, item_id, failure, reason)
    if retry is not None and failure is FailureKind.RETRYING:
        retry[(kind, item_id)] = next_attempt(marker, utcnow())


def _google_refused(connection: CalendarConnection, run: SyncRun, upsert: Upsert, error: GoogleError,
                    retry: Retry | None) -> None:
    current_app.logger.info("push of %s to connection %s failed: %s (%s)", upsert.item.ref, connection.id,
                            error, error.reason)
    _failed(connection, run, upsert.item.kind, upsert.item.id, upsert.item.title, *google_failure(error), retry)


def _bodies(connection: CalendarConnection, items: list[PortalItem], links: dict,
            run: SyncRun) -> tuple[list[Upsert], list[EventLink]]:
    """Each item's event body; an item that cannot have one fails alone (its Google copy, if any, goes)."""
    upserts, unpushable = [], []
    for item in items:
        link = links.get((item.kind, item.id))
        try:
            body = event_body(connection, item)
        except NotPushable as exc:
            record_failure(connection, item.kind, item.id, FailureKind.NOT_SYNCED, str(exc))
            if link is None:
                run.done += 1
            else:
                unpushable.append(link)  # counted done by its delete
            continue
        except Exception:  # an item the mapping cannot handle must not stop the others
            current_app.logger.exception("could not map %s for connection %s", item.ref, connection.id)
            _failed(connection, run, item.kind, item.id, item.title, FailureKind.REFUSED, UNCONVERTIBLE, None)
            run.done += 1
            continue
        upserts.append(Upsert(item, link, body, content_hash(body)))
    return upserts, unpushable


def upsert_items(client: CalendarClient, connection: CalendarConnection, items: Iterable[PortalItem],
                 run: SyncRun, retry: Retry | None = None) -> None:
    """Insert or patch each item's event; unchanged items (same content hash) cost no request.

    Items that fail for a reason that passes (Google unavailable or busy) are added to `retry`; refused
    or unconvertible ones are marked and wait for the user's Retry or their next edit.
    """
    items = list(items)
    if not items:
        return
    links = {}
    for kind in {item.kind for item in items}:
        links.update({(kind, i): link for i, link in _links(
            connection, kind, [it.id for it in items if it.kind == kind]).items()})
    upserts, unpushable = _bodies(connection, items, links, run)
    if unpushable:  # e.g. a task whose due date was removed: its old copy would be wrong
        delete_events(client, connection, unpushable, run, retry, keep_failures=True)
    todo = [u for u in upserts if not (u.link and u.link.content_hash == u.digest)]
    run.done += len(upserts) - len(todo)
    succeeded: list[tuple[str, int]] = [(u.item.kind, u.item.id) for u in upserts if u not in todo]

    calls = [BatchCall("patch", u.link.google_event_id, u.body, key=u, if_match=u.link.etag) if u.link else
             _insert_call(connection, u) for u in todo]
    second_round = []  # 409 inserts and conflicts the portal won become plain patches
    for result in client.batch(connection.calendar_id, calls):
        upsert: Upsert = result.call.key
        if result.error is None:
            _save_link(connection, upsert, result.response)
            succeeded.append((upsert.item.kind, upsert.item.id))
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
            try:
                event = client.get_event(connection.calendar_id, result.call.event_id)
            except GoogleError as exc:
                if isinstance(exc, RateLimited) and exc.wait_seconds:
                    raise  # Google asks a slice to wait (`in_chunk`): not this item's failure
                _google_refused(connection, run, upsert, exc, retry)
                run.done += 1
                continue
            if settle_conflict(connection, upsert.item, upsert.link, event, run):
                second_round.append(BatchCall("patch", result.call.event_id, upsert.body, key=upsert))
            else:
                run.done += 1
        elif result.call.method == "patch" and result.error.status in (404, 410):
            # Deleted in Google before a pull noticed (or on a 1-way connection, which never pulls).
            unlink_after_google_delete(connection, upsert.link, upsert.item, run)
            run.done += 1
        else:
            _google_refused(connection, run, upsert, result.error, retry)
            run.done += 1
    for result in client.batch(connection.calendar_id, second_round) if second_round else ():
        upsert = result.call.key
        run.done += 1
        if result.error is None:
            _save_link(connection, upsert, result.response)
            succeeded.append((upsert.item.kind, upsert.item.id))
            run.updated += 1
        else:
            _google_refused(connection, run, upsert, result.error, retry)
    clear_failures(connection, succeeded)


def delete_events(client: CalendarClient, connection: CalendarConnection, links: Sequence[EventLink],
                  run: SyncRun, retry: Retry | None = None, keep_failures: bool = False) -> None:
    """Delete the Google copies; an event already gone counts as deleted.

    A refused delete is reported and not retried in a loop; an unavailable Google is tried again later.
    """
    calls = [BatchCall("delete", link.google_event_id, key=link) for link in links]
    deleted: list[tuple[str, int]] = []
    for result in client.batch(connection.calendar_id, calls) if calls else ():
        link: EventLink = result.call.key
        run.done += 1
        if result.error is None or result.error.status in (404, 410):
            db.session.delete(link)
            deleted.append((link.item_type, link.item_id))
            run.deleted += 1
            continue
        failure, reason = google_failure(result.error)
        add_error(run, f"A Google copy could not be deleted: {reason}")
        if retry is not None and failure is FailureKind.RETRYING:
            retry[(link.item_type, link.item_id)] = utcnow() + FIRST_PAUSE
    if not keep_failures:
        clear_failures(connection, deleted)


def _dated_from(model: type[PortalItem], since: date) -> sa.ColumnElement[bool]:
    """Items dated from `since` onward; undated tasks always count (they have no "ago" to leave them out by)."""
    since_at = datetime.combine(since, time.min)
    if model is Task:
        return sa.or_(Task.due_at >= since_at, Task.due_date >= since,
                      sa.and_(Task.due_at.is_(None), Task.due_date.is_(None)))
    if model is Event:
        return sa.or_(Event.start_at >= since_at, Event.start_date >= since)
    return model.start_at >= since_at


def pushable_items(user: User, model: type[PortalItem], since: date | None) -> sa.Select:
    """The user's items for Push Existing Data: all of them, or those dated from `since` onward."""
    query = model.of_participant(user)
    return query if since is None else query.where(_dated_from(model, since))


def count_pushable(user: User, windows: Sequence[date | None]) -> list[int]:
    """How many items Push Existing Data would push for each window: one query per item kind."""
    totals = [0] * len(windows)
    for model in ITEM_MODELS.values():
        counts = db.session.execute(model.of_participant(user).order_by(None).with_only_columns(*(
            sa.func.count(sa.case((_dated_from(model, since), 1))) if since else sa.func.count(model.id)
            for since in windows))).one()
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
    return totals


# Where a sliced bulk run goes on: (item kind, last item id pushed), or (`relocate.REMOVAL`, last link id).
Cursor = tuple[str, int]


@dataclass(frozen=True)
class Stopped:
    """Where a bulk run (Push Existing Data, a move, a removal) stopped before the end, and why."""

    cursor: Cursor
    ceiling: bool = False  # the day's creation ceiling was reached: the rest follows in daily instalments
    wait_seconds: float = 0  # Google's per-minute quota is in use: the next slice goes on this much later


def push_existing_data(client: CalendarClient, connection: CalendarConnection, run: SyncRun,
                       after: Cursor | None = None, limit: int | None = None) -> Stopped | None:
    """Every item the user takes part in (from `run.items_since`), in chunks by kind and id, progress
    committed after each chunk. Returns where it stopped, or None once everything is in Google.

    With a `limit` it is a slice (a 100,000-item push runs as short slices, so workers take other people's
    edits in between, see `jobs.sync`): it stops after `limit` items, or as soon as Google's per-minute
    quota has no room for a batch (by our budget, or by Google's answer: `in_chunk`), so the next slice waits
    for the quota in the queue and not in a worker.
    It always stops at the day's creation ceiling (the rest follows in daily instalments). The first slice
    counts the items, one COUNT per kind; every chunk then seeks by id, so no slice loads more than its own
    items however many there are.
    """
    if after is None:
        run.total += count_pushable(connection.user, [run.items_since])[0]  # += : a calendar move counts its deletes
        db.session.commit()
    left = limit
    retry: Retry = {}
    kinds = list(ITEM_MODELS)
    batch = min(CHUNK, client.batch_size)
    for n, kind in enumerate(kinds[kinds.index(after[0]) if after else 0:]):
        model, last_id = ITEM_MODELS[kind], after[1] if after and after[0] == kind else 0
        if n and left:  # a kind ends with a short batch: the slice's rest is cut to whole batches, or the next
            left -= left % batch  # slice's start would add a second short one in this kind (⌈N/50⌉ requests)
        while True:
            size = _chunk_size(client, (kind, last_id), left, sliced=limit is not None)
            if isinstance(size, Stopped):
                return _stopped(connection, retry, size)
            chunk = db.session.scalars(pushable_items(connection.user, model, run.items_since)
                                       .where(model.id > last_id).limit(size)
                                       .options(*model.with_participants())).all()
            if chunk:
                failed_for_now: Retry = {}
                stopped = in_chunk(client, (kind, last_id), limit is not None,
                                   partial(upsert_items, client, connection, chunk, run, failed_for_now))
                if stopped is not None:
                    return _stopped(connection, retry, stopped)
                retry.update(failed_for_now)
                last_id = chunk[-1].id
                left = None if left is None else left - len(chunk)
            if len(chunk) < size:
                break  # this kind is done
    # Everything is now in Google: whatever was queued before this run is done, except what must be tried again.
    db.session.execute(sa.delete(PendingPush).where(PendingPush.connection_id == connection.id,
                                                    PendingPush.queued_at <= run.started_at))
    keep_queued(connection, retry)
    db.session.commit()
    return None


def _stopped(connection: CalendarConnection, retry: Retry, stopped: Stopped) -> Stopped:
    keep_queued(connection, retry)  # what failed so far is retried, not forgotten till the next slice
    db.session.commit()
    return stopped


def _chunk_size(client: CalendarClient, at: Cursor, left: int | None, sliced: bool) -> int | Stopped:
    """How many items the chunk after `at` may take, or where and why the push stops there."""
    # Only new events count against Google's use limit; unchanged items cost nothing at all.
    room = current_app.config["PUSH_DAILY_CEILING"] - creations_today(client.budget_user)
    if room <= 0:
        return Stopped(at, ceiling=True)
    if left == 0:
        return Stopped(at)
    size = min(CHUNK, room, CHUNK if left is None else left)
    return within_quota(client, at, size) if sliced else size


def within_quota(client: CalendarClient, at: Cursor, size: int) -> int | Stopped:
    """How many of `size` calls a slice's next chunk makes: one batch, if Google's per-minute quota has room for
    it (after a short wait at most), else what fits, or where the slice stops so the next one waits for the
    quota in the queue. One batch a chunk: each is committed before the next is sent, so a rate-limit answer
    Google still gives rolls back no more than one batch (`in_chunk`), and a slice always gets somewhere."""
    batch = min(size, client.batch_size)
    free, wait = client.budget.room(batch)
    if free >= batch:
        return batch
    if wait <= WAIT_IN_WORKER_SECONDS:
        return batch  # one batch, after a short wait in `take`
    return free or Stopped(at, wait_seconds=wait)  # what fits now, then the queue


def in_chunk(client: CalendarClient, at: Cursor, sliced: bool, work: Callable[[], None]) -> Stopped | None:
    """One chunk of a bulk run, committed (clean objects then leave the weak-referencing identity map).

    In a slice, a rate-limit answer that still arrives (another app on the project, a clock edge: our budget
    makes it rare) and asks for more than a short wait rolls the chunk back and stops the slice at `at`, so the
    wait is taken in the queue and not in a worker others wait for. What the chunk did at Google is found
    again by the next slice: an insert answers 409 and becomes a patch, a delete answers 404.
    """
    if not sliced:
        work()
        db.session.commit()
        return None
    try:
        with client.waiting_at_most(WAIT_IN_WORKER_SECONDS):
            work()
    except RateLimited as limited:
        db.session.rollback()
        client.keep_refreshed_token()
        return Stopped(at, wait_seconds=limited.wait_seconds)
    db.session.commit()
    return None


def push_pending(client: CalendarClient, connection: CalendarConnection, run: SyncRun) -> None:
    """Drain the outbox: upsert live items the user takes part in, delete the copies of the rest.

    A row leaves the outbox once its change is in Google; one that still fails with a transient error
    stays for the next sweep, and so does one whose item changed again meanwhile (newer `queued_at`).
    """
    attempted: set[int] = set()
    now = utcnow()
    while True:
        pending = db.session.scalars(sa.select(PendingPush).where(
            PendingPush.connection_id == connection.id, PendingPush.due(now), PendingPush.id.not_in(attempted))
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
                model.of_participant(connection.user).where(model.id.in_(ids)).options(*model.with_participants()))}
            live += found.values()
            gone += [(kind, i) for i in ids if i not in found]
        retry: Retry = {}
        upsert_items(client, connection, live, run, retry)
        stale_links = [link for kind, ids in _group(gone).items()
                       for link in _links(connection, kind, ids).values()]
        delete_events(client, connection, stale_links, run, retry)
        run.done += len(gone) - len(stale_links)
        clear_failures(connection, gone)  # trashed, or no longer the user's: nothing is missing from Google
        # queued_at is the value just read from the row, so it matches exactly unless the item changed again.
        done = [(row.id, row.queued_at) for row in pending if (row.item_type, row.item_id) not in retry]
        if done:
            db.session.execute(sa.delete(PendingPush).where(sa.tuple_(PendingPush.id, PendingPush.queued_at).in_(done))
                               .execution_options(synchronize_session=False))
        for row in pending:  # the rest waits for its backoff, unless the item changed again meanwhile
            if (row.item_type, row.item_id) in retry:
                db.session.execute(sa.update(PendingPush).where(
                    PendingPush.id == row.id, PendingPush.queued_at == row.queued_at).values(
                    not_before=retry[(row.item_type, row.item_id)]).execution_options(synchronize_session=False))
        db.session.commit()


def _group(pairs: list[tuple[str, int]]) -> dict[str, list[int]]:
    grouped: dict[str, list[int]] = {}
    for kind, item_id in pairs:
        grouped.setdefault(kind, []).append(item_id)
    return grouped
