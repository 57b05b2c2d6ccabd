"""The one Google Meet of an appointment: kept from the first copy Google made it for, shared by all.

The first 2-way push sends a `createRequest` (see `mapping.conference_data`); Google's answer carries
the Meet, which is stored on the appointment here, and the link keeps the answer's hash, Meet included, so
that copy is done. The other participants' copies are queued and patched with the stored conference
instead of asking Google for a second Meet.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from ..extensions import db
from ..models import Appointment, CalendarConnection, ConnectionStatus
from ..models.items import VIDEO_MEET, PortalItem
from .mapping import meet_from_event
from .outbox import queue_push


def remember_meet(connection: CalendarConnection, item: PortalItem, event: dict) -> None:
    """Store the Meet Google made for `item` (first writer wins) and queue the copies that lack it."""
    if not isinstance(item, Appointment) or item.meet_conference or item.video_choice != VIDEO_MEET:
        return
    found = meet_from_event(event)
    if found is None:
        return
    link, conference = found
    # Conditional, so two workers pushing the same appointment at once cannot both store their own Meet;
    # updated_at is kept: Google made this change, the user did not edit the appointment.
    stored = db.session.execute(
        sa.update(Appointment).where(Appointment.id == item.id, Appointment.meet_link == "")
        .values(meet_link=link, meet_conference=conference, updated_at=Appointment.updated_at)
        .execution_options(synchronize_session=False)).rowcount
    if stored:  # this copy has it already (Google's answer): the others are patched with it
        set_committed_value(item, "meet_link", link)
        set_committed_value(item, "meet_conference", conference)
        targets = _other_copies(connection, item)
    else:  # another connection stored its Meet first: this copy is patched with that one next time
        db.session.refresh(item, ["meet_link", "meet_conference"])
        targets = [connection.id]
    queue_push(db.session, [{"connection_id": cid, "item_type": item.kind, "item_id": item.id} for cid in targets])


def _other_copies(connection: CalendarConnection, item: Appointment) -> list[int]:
    return list(db.session.scalars(sa.select(CalendarConnection.id).where(
        CalendarConnection.user_id.in_({item.staff_id, item.contact_id}),
        CalendarConnection.company_id == item.company_id, CalendarConnection.id != connection.id,
        CalendarConnection.calendar_id.is_not(None),
        CalendarConnection.status.in_((ConnectionStatus.ACTIVE, ConnectionStatus.RECONNECT)))))

