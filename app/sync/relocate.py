"""Moving a connection's Google copies: to another calendar, or out of Google before a Delete.

Both remove the copies the connection pushed (its `EventLink`s), in chunks with progress committed after
each, so the Integrations page shows the bar moving. Like Push Existing Data, both run in slices
(`jobs.sync`): a 100,000-event move takes hours under Google's quota and must not hold a worker meanwhile.
"""
from __future__ import annotations

from functools import partial

import sqlalchemy as sa

from ..extensions import db
from ..google.client import CalendarClient
from ..models import CalendarConnection, EventLink, GoogleEvent, SyncRun
from .push import Cursor, Stopped, delete_events, in_chunk, push_existing_data, within_quota
from .watch import stop_channel

CHUNK = 200  # links deleted per round, unsliced: four batches of 50 between two progress commits (a slice: one)
REMOVAL = "removal"  # a cursor's kind while the old copies are removed: (REMOVAL, last link id done)


def remove_pushed_events(client: CalendarClient, connection: CalendarConnection, run: SyncRun,
                         after: int | None = None, limit: int | None = None) -> Stopped | None:
    """Delete every Google copy this connection made, from its current calendar, by link id; failures are
    counted. Returns where it stopped, or None once every copy was tried.

    With a `limit` it is a slice: it stops after `limit` copies, or as soon as Google's per-minute quota has
    no room for a batch. Links whose delete failed stay, and the cursor passes them: no slice retries them.
    The first slice (no `after`, not even the 0 of a slice that stopped before its first chunk) counts them.
    """
    if after is None:
        run.total += db.session.scalar(sa.select(sa.func.count()).where(EventLink.connection_id == connection.id))
        db.session.commit()
    left, last_id = limit, after or 0
    while True:
        if left == 0:
            return Stopped((REMOVAL, last_id))
        size = CHUNK if left is None else within_quota(client, (REMOVAL, last_id), min(CHUNK, left))
        if isinstance(size, Stopped):
            return size
        links = db.session.scalars(sa.select(EventLink).where(
            EventLink.connection_id == connection.id, EventLink.id > last_id)
            .order_by(EventLink.id).limit(size)).all()
        if not links:
            return None
        stopped = in_chunk(client, (REMOVAL, last_id), limit is not None,
                           partial(delete_events, client, connection, links, run))
        if stopped is not None:
            return stopped
        last_id = links[-1].id
        left = None if left is None else left - len(links)


def move_to_calendar(client: CalendarClient, connection: CalendarConnection, run: SyncRun,
                     after: Cursor | None = None, limit: int | None = None) -> Stopped | None:
    """Remove the copies from the old calendar, forget its sync state, then push everything to the run's
    calendar. Returns where it stopped (a slice's end, Google's quota, the day's creation ceiling) or None.

    Which of the two it is at is read from the connection, not from `after`: a move resumed after its worker
    died never removes the copies it already put in the new calendar.
    """
    if connection.calendar_id != run.calendar_id:
        stopped = remove_pushed_events(client, connection, run, after[1] if after else None, limit)
        if stopped is not None:
            return stopped
        _switch_calendar(client, connection, run.calendar_id, run.calendar_summary)
        after = None
    return push_existing_data(client, connection, run, after if after and after[0] != REMOVAL else None, limit)


def _switch_calendar(client: CalendarClient, connection: CalendarConnection, calendar_id: str, summary: str) -> None:
    for model in (EventLink, GoogleEvent):  # links whose delete failed describe the old calendar too
        db.session.execute(sa.delete(model).where(model.connection_id == connection.id))
    stop_channel(client, connection.channel_id, connection.channel_resource_id)
    connection.forget_channel()
    connection.sync_token = None
    connection.calendar_id, connection.calendar_summary = calendar_id, summary
    db.session.commit()
