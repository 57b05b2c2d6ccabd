"""Who sees which items: every item query in the app goes through here (tenant + participation)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import abort

from ..extensions import db
from ..models import ITEM_MODELS, Appointment, Event, Task, User, utcnow
from ..models.items import PortalItem


def visible_items(model: type[PortalItem], user: User, *, mine_only: bool = False) -> sa.Select:
    """Live items of the user's company; contacts (and `mine_only`) see only items they take part in."""
    query = sa.select(model).where(model.company_id == user.company_id, model.deleted_at.is_(None))
    if mine_only or not user.is_staff:
        query = query.where(model.involving(user.id))
    return query


def get_visible_item_or_404(model: type[PortalItem], item_id: int, user: User) -> PortalItem:
    item = db.session.scalar(visible_items(model, user).where(model.id == item_id))
    if item is None:
        abort(404)
    return item



def participant_items(user: User, model: type[PortalItem]) -> sa.Select:
    return visible_items(model, user, mine_only=True).order_by(model.id)


@dataclass(frozen=True)
class CalendarEntry:
    """One thing drawn on a calendar day: a portal item or a Google event."""

    kind: str  # task | event | appointment | google
    title: str
    all_day: bool
    start: datetime | date
    end: datetime | date  # inclusive date for all-day entries
    url: str | None = None
    location: str = ""

    @property
    def start_day(self) -> date:
        return self.start if not isinstance(self.start, datetime) else self.start.date()


def upcoming_items(user: User, limit: int = 10) -> list[PortalItem]:
    now = utcnow()
    today = now.date()
    found: list[tuple[datetime, PortalItem]] = []
    for task in db.session.scalars(participant_items(user, Task).where(Task.done.is_(False)).where(
            sa.or_(Task.due_at >= now, Task.due_date >= today)).limit(limit)):
        found.append((task.due_at or datetime.combine(task.due_date, time()), task))
    for event in db.session.scalars(participant_items(user, Event).where(
            sa.or_(Event.end_at >= now, Event.end_date >= today)).limit(limit)):
        found.append((event.start_at or datetime.combine(event.start_date, time()), event))
    for appt in db.session.scalars(participant_items(user, Appointment).where(Appointment.end_at >= now).limit(limit)):
        found.append((appt.start_at, appt))
    return [item for _, item in sorted(found, key=lambda pair: pair[0])[:limit]]


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


__all__ = ["ITEM_MODELS", "CalendarEntry", "get_visible_item_or_404", "participant_items", "upcoming_items",
           "visible_items", "week_start"]
