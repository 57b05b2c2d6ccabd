"""Who sees which items: every item query in the app goes through here (tenant + participation)."""
from __future__ import annotations

from datetime import date, datetime, time

import sqlalchemy as sa
from flask import abort

from ..extensions import db
from ..models import Appointment, Event, Task, User, utcnow
from ..models.items import PortalItem


def visible_items(model: type[PortalItem], user: User, *, trashed: bool = False) -> sa.Select:
    """Live (or, with `trashed`, soft-deleted) items of the user's company; contacts see only items they
    take part in (a user's own items, whatever the role, are `PortalItem.of_participant`)."""
    deleted = model.deleted_at.is_not(None) if trashed else model.deleted_at.is_(None)
    query = sa.select(model).where(model.company_id == user.company_id, deleted)
    if not user.is_staff:
        query = query.where(model.involving(user.id))
    return query


def get_visible_item_or_404(model: type[PortalItem], item_id: int, user: User, *, trashed: bool = False) -> PortalItem:
    item = db.session.scalar(visible_items(model, user, trashed=trashed).where(model.id == item_id))
    if item is None:
        abort(404)
    return item



def overlapping(start_col, end_col, start_utc: datetime, end_utc: datetime) -> sa.ColumnElement[bool]:
    """Timed rows that touch [start_utc, end_utc); zero-length rows count at their start."""
    return sa.and_(start_col < end_utc, sa.or_(end_col > start_utc, start_col >= start_utc))


def in_days(start_col, end_col, first: date, last: date) -> sa.ColumnElement[bool]:
    """All-day rows (inclusive end date, which may be missing) that touch the days first..last."""
    return sa.and_(start_col <= last, sa.func.coalesce(end_col, start_col) >= first)


def timed_or_all_day_on(model, first: date, last: date,
                        start_utc: datetime, end_utc: datetime) -> sa.ColumnElement[bool]:
    """Rows with timed (`start_at`/`end_at`) or all-day (`start_date`/`end_date`) bounds that touch the days."""
    return sa.or_(sa.and_(model.all_day.is_(False), overlapping(model.start_at, model.end_at, start_utc, end_utc)),
                  sa.and_(model.all_day.is_(True), in_days(model.start_date, model.end_date, first, last)))


def participant_items_between(user: User, model: type[PortalItem], first: date, last: date,
                              start_utc: datetime, end_utc: datetime) -> sa.Select:
    """The user's own items on the days first..last; timed ones by the UTC bounds of those local days."""
    if model is Task:
        touches = sa.or_(sa.and_(Task.due_at >= start_utc, Task.due_at < end_utc),
                         sa.and_(Task.due_at.is_(None), Task.due_date >= first, Task.due_date <= last))
    elif model is Event:
        touches = timed_or_all_day_on(Event, first, last, start_utc, end_utc)
    else:
        touches = overlapping(model.start_at, model.end_at, start_utc, end_utc)
    return model.of_participant(user).where(touches)


def upcoming_items(user: User, limit: int = 10) -> list[PortalItem]:
    """The user's next items, soonest first, ongoing ones included: each kind's soonest rows by their own
    start column (timed and all-day separately, so each query can order and limit in SQL), then merged."""
    now = utcnow()
    today = now.date()
    sources = [  # (model, start column, still to come or ongoing)
        (Task, Task.due_at, sa.and_(Task.done.is_(False), Task.due_at >= now)),
        (Task, Task.due_date, sa.and_(Task.done.is_(False), Task.due_at.is_(None), Task.due_date >= today)),
        (Event, Event.start_at, sa.and_(Event.all_day.is_(False), Event.end_at >= now)),
        (Event, Event.start_date,
         sa.and_(Event.all_day.is_(True), sa.func.coalesce(Event.end_date, Event.start_date) >= today)),
        (Appointment, Appointment.start_at, Appointment.end_at >= now),
    ]
    found: list[tuple[datetime, PortalItem]] = []
    for model, start, still_on in sources:
        query = model.of_participant(user).where(still_on).order_by(None).order_by(start, model.id).limit(limit)
        for item in db.session.scalars(query):
            value = getattr(item, start.key)
            found.append((value if isinstance(value, datetime) else datetime.combine(value, time()), item))
    return [item for _, item in sorted(found, key=lambda pair: pair[0])[:limit]]

__all__ = ["get_visible_item_or_404", "in_days", "overlapping", "participant_items_between",
           "timed_or_all_day_on", "upcoming_items", "visible_items"]
