"""The three item kinds as data: one registry drives every generic portal view and template.

A `Kind` says which model and form a kind uses, how its rows are shown (list columns, detail
fields), who its participants are and who may change it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time

from flask import url_for

from ..models import Appointment, Event, Task, User
from ..models.items import PortalItem
from ..timefmt import format_date, format_dt
from .forms import AppointmentForm, EventForm, ItemForm, TaskForm

Cell = Callable[[PortalItem, str], str]  # (item, viewer's time zone) → display text


@dataclass(frozen=True)
class Field:
    label: str
    value: Cell
    link: bool = False  # render the value as a hyperlink


@dataclass(frozen=True)
class Kind:
    """How the portal shows and edits one item kind; what the kind IS (its name, who takes part) is the model's."""

    label: str
    plural: str
    model: type[PortalItem]
    form: type[ItemForm]
    columns: tuple[Field, ...]
    details: tuple[Field, ...]
    sort_key: Callable[[PortalItem], datetime]
    people_attr: str | None = None  # the participant list a form edits, if any

    @property
    def name(self) -> str:
        return self.model.kind

    def endpoint(self, action: str) -> str:
        return f"portal.{self.name}_{action}"

    def can_create(self, user: User) -> bool:
        return self.model.creatable_by(user)

    def can_manage(self, item: PortalItem, user: User) -> bool:
        """The models' one rule, also applied to changes pulled from Google (see `changeable_by`)."""
        return item.changeable_by(user)


def names(people: list[User]) -> str:
    return ", ".join(person.name for person in people) or "—"


def span(start: datetime | date | None, end: datetime | date | None, tz: str) -> str:
    """A readable range: dates for all-day items, local times (end time only when same day) otherwise."""
    if start is None:
        return "—"
    if not isinstance(start, datetime):
        return format_date(start) if end in (None, start) else f"{format_date(start)} – {format_date(end)}"
    same_day = format_dt(start, tz, "%Y%m%d") == format_dt(end, tz, "%Y%m%d")
    return f"{format_dt(start, tz)} – {format_dt(end, tz, '%H:%M' if same_day else '%a %d %b %Y, %H:%M')}"


def task_due(task: Task, tz: str) -> str:
    if task.due_at:
        return format_dt(task.due_at, tz)
    return format_date(task.due_date) + " (all day)" if task.due_date else "No due date"


def event_when(event: Event, tz: str) -> str:
    if event.all_day:
        return span(event.start_date, event.end_date, tz) + " (all day)"
    return span(event.start_at, event.end_at, tz)


def appointment_when(appointment: Appointment, tz: str) -> str:
    return span(appointment.start_at, appointment.end_at, tz)


def as_datetime(value: datetime | date | None) -> datetime:
    if value is None:
        return datetime.max
    return value if isinstance(value, datetime) else datetime.combine(value, time())


TITLE = Field("Title", lambda item, tz: item.title)

KINDS: dict[str, Kind] = {kind.name: kind for kind in (
    Kind(
        label="Task", plural="tasks", model=Task, form=TaskForm, people_attr=Task.participant_attrs[0],
        columns=(TITLE, Field("Due", task_due), Field("Assignees", lambda t, tz: names(t.assignees)),
                 Field("Done", lambda t, tz: "Yes" if t.done else "No")),
        details=(Field("Due", task_due), Field("Assignees", lambda t, tz: names(t.assignees)),
                 Field("Done", lambda t, tz: "Yes" if t.done else "No"), Field("Notes", lambda t, tz: t.notes)),
        sort_key=lambda t: as_datetime(t.due_at or t.due_date),
    ),
    Kind(
        label="Event", plural="events", model=Event, form=EventForm, people_attr=Event.participant_attrs[0],
        columns=(TITLE, Field("When", event_when), Field("Location", lambda e, tz: e.location),
                 Field("Attendees", lambda e, tz: names(e.attendees))),
        details=(Field("When", event_when), Field("Time zone", lambda e, tz: e.timezone),
                 Field("Location", lambda e, tz: e.location), Field("Attendees", lambda e, tz: names(e.attendees)),
                 Field("Description", lambda e, tz: e.description)),
        sort_key=lambda e: as_datetime(e.start_at or e.start_date),
    ),
    Kind(
        label="Appointment", plural="appointments", model=Appointment, form=AppointmentForm,
        columns=(TITLE, Field("When", appointment_when), Field("Staff member", lambda a, tz: a.staff.name),
                 Field("Contact", lambda a, tz: a.contact.name),
                 Field("Where", lambda a, tz: a.location or ("Online" if a.video_link else "—"))),
        details=(Field("When", appointment_when), Field("Time zone", lambda a, tz: a.timezone),
                 Field("Staff member", lambda a, tz: a.staff.name), Field("Contact", lambda a, tz: a.contact.name),
                 Field("Location", lambda a, tz: a.location),
                 Field("Video", lambda a, tz: a.video_link, link=True)),
        sort_key=lambda a: a.start_at,
    ),
)}


def item_url(item: PortalItem) -> str:
    """The detail page of any portal item (used by lists, the calendar and the dashboard)."""
    return url_for(KINDS[item.kind].endpoint("detail"), item_id=item.id)
