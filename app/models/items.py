"""Portal items: Tasks, Events and Appointments, the things that sync to Google.

Times are stored as naive UTC (`*_at`) for timed items and as plain dates for all-day
items, whose `end_date` is inclusive (Google's exclusive end is applied at the boundary).
Items are soft-deleted (`deleted_at`) so a delete can reach Google and be undone.
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship, selectinload

from ..extensions import db
from .core import Company, User, utcnow

task_assignees = sa.Table(
    "task_assignee",
    db.metadata,
    sa.Column("task_id", sa.ForeignKey("task.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
)
event_attendees = sa.Table(
    "event_attendee",
    db.metadata,
    sa.Column("event_id", sa.ForeignKey("event.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
)


class PortalItem:
    """Columns and behaviour shared by the three item kinds."""

    kind: str
    staff_only: bool = False  # only staff create or change items of this kind
    # Who takes part is defined here once: `participants` (loaded), `involving` (SQL), the attributes whose
    # changes change it (the outbox also queues a delete for anyone just removed), and how to load it.
    participant_attrs: tuple[str, ...] = ()

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(index=True)

    @declared_attr
    def company_id(cls) -> Mapped[int]:
        return mapped_column(sa.ForeignKey("company.id"), index=True)

    @declared_attr
    def created_by_id(cls) -> Mapped[int | None]:
        return mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    @declared_attr
    def company(cls) -> Mapped[Company]:
        return relationship()

    @property
    def participants(self) -> list[User]:
        raise NotImplementedError

    @classmethod
    def involving(cls, user_id: int) -> sa.ColumnElement[bool]:
        """SQL condition: the user takes part in the item."""
        raise NotImplementedError

    def involves(self, user: User) -> bool:
        return user.id in {p.id for p in self.participants}

    @classmethod
    def with_participants(cls) -> tuple:
        """Loader options that fetch the participants with the items, not one query per item."""
        return tuple(selectinload(getattr(cls, name)) for name in cls.participant_attrs
                     if not name.endswith("_id"))

    @classmethod
    def of_participant(cls, user: User) -> sa.Select:
        """The live items of the user's company that the user takes part in (what their calendar syncs)."""
        return sa.select(cls).where(cls.company_id == user.company_id, cls.deleted_at.is_(None),
                                    cls.involving(user.id)).order_by(cls.id)

    @classmethod
    def creatable_by(cls, user: User) -> bool:
        return user.is_staff or not cls.staff_only

    def changeable_by(self, user: User) -> bool:
        """THE rule for changing an item, wherever the change comes from: the portal's edit and delete
        routes, and an edit pulled from the user's Google Calendar (refused edits are undone there).

        Staff change any item of their company; a contact only the ones they created, and never a
        staff-only kind.
        """
        if self.company_id != user.company_id:
            return False
        return user.is_staff or (not self.staff_only and self.created_by_id == user.id)

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.id}"


class Task(PortalItem, db.Model):
    kind = "task"
    participant_attrs = ("assignees",)

    notes: Mapped[str] = mapped_column(sa.Text, default="")
    due_date: Mapped[date | None]
    due_at: Mapped[datetime | None]
    done: Mapped[bool] = mapped_column(default=False)

    assignees: Mapped[list[User]] = relationship(secondary=task_assignees, order_by=User.name)

    @property
    def participants(self) -> list[User]:
        return list(self.assignees)

    @classmethod
    def involving(cls, user_id: int) -> sa.ColumnElement[bool]:
        return cls.assignees.any(User.id == user_id)

    @property
    def all_day(self) -> bool:
        return self.due_at is None


class Event(PortalItem, db.Model):
    kind = "event"
    participant_attrs = ("attendees",)

    description: Mapped[str] = mapped_column(sa.Text, default="")
    location: Mapped[str] = mapped_column(sa.String(255), default="")
    all_day: Mapped[bool] = mapped_column(default=False)
    start_at: Mapped[datetime | None]
    end_at: Mapped[datetime | None]
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")

    attendees: Mapped[list[User]] = relationship(secondary=event_attendees, order_by=User.name)

    @property
    def participants(self) -> list[User]:
        return list(self.attendees)

    @classmethod
    def involving(cls, user_id: int) -> sa.ColumnElement[bool]:
        return cls.attendees.any(User.id == user_id)


VIDEO_NONE, VIDEO_MEET, VIDEO_LINK = "none", "meet", "link"


class Appointment(PortalItem, db.Model):
    kind = "appointment"
    staff_only = True
    participant_attrs = ("staff_id", "contact_id", "staff", "contact")

    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    staff_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    location: Mapped[str] = mapped_column(sa.String(255), default="")
    meeting_link: Mapped[str] = mapped_column(sa.String(500), default="")
    # The one Google Meet of this appointment: created by the first 2-way push, then copied onto every
    # participant's Google event (`meet_conference` is Google's conferenceData without its createRequest).
    meet_link: Mapped[str] = mapped_column(sa.String(500), default="")
    meet_conference: Mapped[dict | None] = mapped_column(sa.JSON)
    # The one video link it has: VIDEO_NONE, VIDEO_MEET or VIDEO_LINK (`meeting_link`); None (appointments made
    # before the choice existed) follows what they showed then: their own link, else the company's Meet switch.
    video: Mapped[str | None] = mapped_column(sa.String(10))

    staff: Mapped[User] = relationship(foreign_keys=[staff_id])
    contact: Mapped[User] = relationship(foreign_keys=[contact_id])

    @property
    def participants(self) -> list[User]:
        return [self.staff] if self.staff_id == self.contact_id else [self.staff, self.contact]

    @property
    def video_choice(self) -> str:
        if self.video:
            return self.video
        return VIDEO_LINK if self.meeting_link else VIDEO_MEET if self.company.google_meet else VIDEO_NONE

    @property
    def video_link(self) -> str:
        """The link shown wherever the appointment is ("" while a Meet waits for its first push to Google)."""
        return {VIDEO_LINK: self.meeting_link, VIDEO_MEET: self.meet_link}.get(self.video_choice, "")

    @classmethod
    def involving(cls, user_id: int) -> sa.ColumnElement[bool]:
        return sa.or_(cls.staff_id == user_id, cls.contact_id == user_id)


ITEM_MODELS: dict[str, type[PortalItem]] = {model.kind: model for model in (Task, Event, Appointment)}
