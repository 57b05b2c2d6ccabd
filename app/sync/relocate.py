"""Moving a connection's Google copies: to another calendar, or out of Google before a Delete.

Both remove the copies the connection pushed (its `EventLink`s), in chunks with progress committed
after each, so the Integrations page shows the bar moving and a retry after a crash starts from what is left.
"""
from __future__ import annotations

import sqlalchemy as sa

from ..extensions import db
from ..google.client import CalendarClient
from ..models import CalendarConnection, EventLink, GoogleEvent, SyncRun
from .push import Stopped, delete_events, push_existing_data
from .watch import stop_channel

CHUNK = 200  # links deleted per round: four batches of 50 between two progress commits


def remove_pushed_events(client: CalendarClient, connection: CalendarConnection, run: SyncRun) -> None:
    """Delete every Google copy this connection made, from its current calendar; failures are counted."""
    run.total += db.session.scalar(sa.select(sa.func.count()).where(EventLink.connection_id == connection.id))
    db.session.commit()
    last_id = 0
    while True:
        links = db.session.scalars(sa.select(EventLink).where(
            EventLink.connection_id == connection.id, EventLink.id > last_id)
            .order_by(EventLink.id).limit(CHUNK)).all()
        if not links:
            return
        last_id = links[-1].id
        delete_events(client, connection, links, run)
        db.session.commit()


def move_to_calendar(client: CalendarClient, connection: CalendarConnection, run: SyncRun,
                     calendar_id: str, summary: str) -> Stopped | None:
    """Remove the copies from the old calendar, forget its sync state, then push everything to the new one.

    Done under the connection's lock, so no push lands in either calendar halfway through. Returns where
    the push stopped if the day's creation ceiling was reached (the rest follows in instalments).
    """
    remove_pushed_events(client, connection, run)
    for model in (EventLink, GoogleEvent):  # links whose delete failed describe the old calendar too
        db.session.execute(sa.delete(model).where(model.connection_id == connection.id))
    stop_channel(client, connection.channel_id, connection.channel_resource_id)
    connection.forget_channel()
    connection.sync_token = None
    connection.calendar_id, connection.calendar_summary = calendar_id, summary
    db.session.commit()
    return push_existing_data(client, connection, run)
