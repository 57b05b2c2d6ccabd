"""Bulk runs in slices: Push Existing Data, a calendar move, and the removal before a Delete.

Each touches every item, and 100,000 items take hours under Google's per-minute quota, so none holds a
worker for long: a slice handles at most SLICE_ITEMS (or the smaller `SyncSettings.slice_items`), stops early
when the quota has no room for a batch (by our budget, or by Google's answer: `in_chunk`) and returns where it
stopped, a `Stopped` with its `Cursor`. The job boundary queues the next slice at the end of the bulk queue,
so the wait for the quota is taken in the queue and other people's edits go first. Every chunk is one Google
batch, committed before the next is sent, so a rate-limit answer undoes at most one batch and a slice always
gets somewhere. Chunks seek by id, so no slice loads more than its own items however many there are. A push
(or a move's push) also stops at the day's creation ceiling: the rest follows in daily instalments. Bulk work
leaves a reserve of the project's quota window to people's edits (`RequestBudget.leaving_reserve`, around
sizing and sending a chunk).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import partial
from typing import NamedTuple

import sqlalchemy as sa

from ..extensions import db
from ..google import TryLater
from ..google.budget import creations_today
from ..google.client import CalendarClient
from ..models import ITEM_MODELS, Event, EventLink, PendingPush, Task, User
from ..models.items import PortalItem
from .connections import choose_calendar
from .context import Sync
from .failures import keep_queued
from .push import Retry, delete_events, upsert_items

SLICE_ITEMS = 500  # a slice gives its worker back after this many items (about a second)
CHUNK = 500  # items loaded at a time (a slice's chunk is further cut to one Google batch)
# A slice waits this long for Google's per-minute quota in its worker (the budget's `take`); a longer wait, in
# the queue (a trip through the scheduler costs about a second, and the worker takes other work meanwhile).
WAIT_IN_WORKER_SECONDS = 3
REMOVAL = "removal"  # a cursor's kind while the old copies are removed


class Cursor(NamedTuple):
    """Where a bulk run goes on: after this item (of this kind), or this link while removing."""

    kind: str
    after_id: int


@dataclass(frozen=True)
class Stopped:
    """Where a slice stopped before the end of its run, and why."""

    cursor: Cursor
    ceiling: bool = False  # the day's creation ceiling was reached: the rest follows in daily instalments
    wait_seconds: float = 0  # Google's per-minute quota is in use: the next slice goes on this much later


# -- the three bodies (see `app.sync.kinds`) --------------------------------------------------------------

def push_slice(sync: Sync, at: Cursor | None) -> Stopped | None:
    """Push Existing Data: the items the user takes part in (from `run.items_since`), by kind and id. The first
    slice counts them (one COUNT per kind). Returns where it stopped, or None once everything is in Google."""
    if at is None:
        sync.run.total += count_pushable(sync.connection.user, [sync.run.items_since])[0]  # += : a move's deletes
        db.session.commit()
    left, retry = min(SLICE_ITEMS, sync.settings.slice_items), {}
    kinds = list(ITEM_MODELS)
    batch = min(CHUNK, sync.client.batch_size)
    for n, kind in enumerate(kinds[kinds.index(at.kind) if at else 0:]):
        if n and left:  # a kind ends with a short batch: the slice's rest is cut to whole batches, or the next
            left -= left % batch  # slice's start would add a second short one in this kind (⌈N/50⌉ requests)
        stopped, left = _push_kind(sync, Cursor(kind, at.after_id if at and at.kind == kind else 0), left, retry)
        if stopped is not None:
            keep_queued(sync.connection, retry)  # what failed so far is retried, not forgotten till the next slice
            db.session.commit()
            return stopped
    # Everything is now in Google: whatever was queued before this run is done, except what must be tried again.
    db.session.execute(sa.delete(PendingPush).where(PendingPush.connection_id == sync.connection.id,
                                                    PendingPush.queued_at <= sync.run.started_at))
    keep_queued(sync.connection, retry)
    db.session.commit()
    return None


def move_slice(sync: Sync, at: Cursor | None) -> Stopped | None:
    """A calendar move: remove the copies from the old calendar, switch, then push everything to the run's
    calendar. Which of the two it is at is read from the connection, not from `at`: a move resumed after its
    worker died never removes the copies it already put in the new calendar."""
    connection, run = sync.connection, sync.run
    if connection.calendar_id != run.calendar_id:
        stopped = _remove_copies(sync, at.after_id if at else None)
        if stopped is not None:
            return stopped
        choose_calendar(connection, run.calendar_id, run.calendar_summary, sync.client)
        db.session.commit()
        at = None
    return push_slice(sync, at if at and at.kind != REMOVAL else None)


def removal_slice(sync: Sync, at: Cursor | None) -> Stopped | None:
    """Delete with "remove the events": every Google copy this connection made leaves its calendar."""
    return _remove_copies(sync, at.after_id if at else None)


# -- slices, chunks and the quota ------------------------------------------------------------------------

def _push_kind(sync: Sync, at: Cursor, left: int, retry: Retry) -> tuple[Stopped | None, int]:
    """One kind's items after `at`, a chunk at a time; returns where the slice stopped (None: the kind is done)
    and how many items the slice may still take."""
    model, last_id = ITEM_MODELS[at.kind], at.after_id
    while True:
        size = _chunk_size(sync, Cursor(at.kind, last_id), left)
        if isinstance(size, Stopped):
            return size, left
        chunk = db.session.scalars(pushable_items(sync.connection.user, model, sync.run.items_since)
                                   .where(model.id > last_id).limit(size).options(*model.with_participants())).all()
        if chunk:
            failed_for_now: Retry = {}
            stopped = in_chunk(sync.client, Cursor(at.kind, last_id), partial(
                upsert_items, sync.client, sync.connection, chunk, sync.run, failed_for_now))
            if stopped is not None:
                return stopped, left
            retry.update(failed_for_now)
            last_id, left = chunk[-1].id, left - len(chunk)
        if len(chunk) < size:
            return None, left


def _remove_copies(sync: Sync, after: int | None) -> Stopped | None:
    """Delete the connection's Google copies from its current calendar, by link id. Links whose delete failed
    stay, and the cursor passes them: no slice retries them. The first slice (no `after`, not even the 0 of a
    slice that stopped before its first chunk) counts them."""
    if after is None:
        sync.run.total += db.session.scalar(sa.select(sa.func.count()).where(
            EventLink.connection_id == sync.connection.id))
        db.session.commit()
    left, last_id = min(SLICE_ITEMS, sync.settings.slice_items), after or 0
    while True:
        at = Cursor(REMOVAL, last_id)
        size = within_quota(sync.client, at, min(CHUNK, left)) if left else Stopped(at)
        if isinstance(size, Stopped):
            return size
        links = db.session.scalars(sa.select(EventLink).where(
            EventLink.connection_id == sync.connection.id, EventLink.id > last_id)
            .order_by(EventLink.id).limit(size)).all()
        if not links:
            return None
        stopped = in_chunk(sync.client, at, partial(delete_events, sync.client, sync.connection, links, sync.run))
        if stopped is not None:
            return stopped
        last_id, left = links[-1].id, left - len(links)


def _chunk_size(sync: Sync, at: Cursor, left: int) -> int | Stopped:
    """How many items the chunk after `at` may take, or where and why the slice stops there."""
    # Only new events count against Google's use limit; unchanged items cost nothing at all.
    room = sync.settings.push_daily_ceiling - creations_today(sync.client.budget_user)
    if room <= 0:
        return Stopped(at, ceiling=True)
    if left == 0:
        return Stopped(at)
    return within_quota(sync.client, at, min(CHUNK, room, left))


def within_quota(client: CalendarClient, at: Cursor, size: int) -> int | Stopped:
    """How many of `size` calls the next chunk makes: one batch, if Google's per-minute quota has room for it
    (after a short wait at most), else what fits, or where the slice stops so the next one waits for the quota
    in the queue."""
    batch = min(size, client.batch_size)
    with client.budget.leaving_reserve():
        free, wait = client.budget.room(batch)
    if free >= batch or wait <= WAIT_IN_WORKER_SECONDS:
        return batch  # at once, or after a short wait in `take`
    return free or Stopped(at, wait_seconds=wait)  # what fits now, then the queue


def in_chunk(client: CalendarClient, at: Cursor, work: Callable[[], None]) -> Stopped | None:
    """One chunk, committed (clean objects then leave the weak-referencing identity map).

    A rate-limit answer that still arrives (another app on the project, a clock edge: our budget makes it rare)
    and asks for more than a short wait, or Google found down (`app.google.outage`), rolls the chunk back and
    stops the slice at `at`. What the chunk did at Google is found again by the next slice: an insert answers 409
    and becomes a patch, a delete answers 404.
    """
    try:
        with client.waiting_at_most(WAIT_IN_WORKER_SECONDS), client.budget.leaving_reserve():
            work()
    except TryLater as later:  # a rate limit, or Google down (its breaker open): the queue waits, not a worker
        db.session.rollback()
        client.keep_refreshed_token()
        return Stopped(at, wait_seconds=later.wait_seconds)
    db.session.commit()
    return None


# -- which items Push Existing Data takes -----------------------------------------------------------------

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
