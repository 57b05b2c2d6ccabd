"""Rows for tests and bench runs, made directly so each caller states only what it needs.

Plain functions, not factory_boy: every builder here is a few lines that add and commit through the app's
own session, and the bench's bulk insert bypasses the ORM on purpose; a factory layer would add a dependency
and indirection without removing code. Call them inside an app context.
"""
from __future__ import annotations

import functools
import re
import uuid
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.models import CalendarConnection, Company, ConnectionKind, ConnectionStatus, Role, User, utcnow
from app.models.items import Appointment, Event, Task, event_attendees, task_assignees

PASSWORD = "correct horse battery"


def saved(row):
    db.session.add(row)
    db.session.commit()
    return row


@functools.cache
def password_hash() -> str:
    """Hashed once per process: scrypt costs ~0.15 s and tests make many users with the same password."""
    return generate_password_hash(PASSWORD)


def make_company(name: str = "Acme", slug: str | None = None) -> tuple[Company, dict[Role, User]]:
    """A company with one user of every role, each signing in with PASSWORD."""
    company = Company(name=name, slug=slug or re.sub(r"\W+", "-", name.lower()) + uuid.uuid4().hex[:4], settings={})
    users = {}
    for role in Role:
        user = User(company=company, email=f"{role.value}@{company.slug}.test", name=f"{role.label} {name}",
                    role=role, timezone="Europe/London", password_hash=password_hash())
        users[role] = user
    saved(company)
    return company, users


def make_connection(user: User, kind: ConnectionKind = ConnectionKind.TWO_WAY,
                    status: ConnectionStatus = ConnectionStatus.ACTIVE, save: bool = True,
                    **values) -> CalendarConnection:
    """A connection as the Integrations flow leaves it; without tokens in `values` nothing is revoked at Google.
    With `save=False` it stays out of the session, its company and user set as objects so that it can still build
    its Google client (the bench's per-event push)."""
    values.setdefault("google_email", f"{user.role.value}.{user.company.slug}@example.com")
    if status is ConnectionStatus.ACTIVE:
        values.setdefault("calendar_id", values["google_email"])
        values.setdefault("calendar_summary", f"{user.name}'s calendar")
    connection = CalendarConnection(company=user.company, user=user, kind=kind, status=status, **values)
    return saved(connection) if save else connection


def make_task(company, assignees: list[User], title: str = "Send documents", **fields) -> Task:
    return saved(Task(company=company, title=title, assignees=assignees, **fields))


def make_event(company, attendees: list[User], title: str = "Planning", **fields) -> Event:
    if not fields.get("all_day"):
        fields.setdefault("start_at", datetime(2030, 5, 6, 9, 0))
        fields.setdefault("end_at", fields["start_at"] + timedelta(hours=1))
    else:
        fields.setdefault("start_date", date(2030, 5, 6))
        fields.setdefault("end_date", fields["start_date"])
    return saved(Event(company=company, title=title, attendees=attendees, timezone="Europe/London", **fields))


def make_appointment(company, staff: User, contact: User, title: str = "Consultation", **fields) -> Appointment:
    fields.setdefault("start_at", datetime(2030, 5, 7, 14, 0))
    fields.setdefault("end_at", fields["start_at"] + timedelta(minutes=45))
    return saved(Appointment(company=company, title=title, staff=staff, contact=contact,
                             timezone="Europe/London", **fields))


def make_items(user: User, tasks: int = 0, events: int = 0, appointments: int = 0) -> list:
    """Items `user` takes part in, one a day over the coming weeks.

    Tasks and events are created by the user (so a contact may change them, in the portal and from Google);
    appointments by the staff member, as only staff may create or change those.
    """
    staff = user if user.is_staff else next(u for u in user.company.users if u.role is Role.STAFF)
    contact = user if not user.is_staff else next(u for u in user.company.users if u.role is Role.CLIENT)
    start = utcnow().replace(microsecond=0, second=0, minute=0) + timedelta(days=1)
    items = []
    for n in range(tasks):
        items.append(Task(company_id=user.company_id, title=f"Task {n}", notes=f"notes {n}", created_by_id=user.id,
                          due_date=(start + timedelta(days=n)).date(), assignees=[user]))
    for n in range(events):
        items.append(Event(company_id=user.company_id, title=f"Event {n}", description="d", location="HQ",
                           created_by_id=user.id,
                           start_at=start + timedelta(days=n, hours=2), end_at=start + timedelta(days=n, hours=3),
                           timezone="Europe/London", attendees=[user]))
    for n in range(appointments):
        items.append(Appointment(company_id=user.company_id, title=f"Appointment {n}", created_by_id=staff.id,
                                 start_at=start + timedelta(days=n, hours=5), end_at=start + timedelta(days=n, hours=6),
                                 timezone="Europe/London", staff_id=staff.id, contact_id=contact.id))
    db.session.add_all(items)
    db.session.commit()
    return items


def insert_items(staff: User, contact: User, n: int) -> None:
    """n items `staff` takes part in (tasks, events, appointments with `contact` in turn), 7 hours apart,
    inserted in bulk (Core inserts, no ORM objects): for the bench's 100,000 items."""
    start = utcnow().replace(microsecond=0, second=0, minute=0) + timedelta(days=1)
    company, me = staff.company_id, staff.id
    next_id = {model: (db.session.scalar(sa.select(sa.func.max(model.id))) or 0) + 1
               for model in (Task, Event, Appointment)}
    rows: dict = {Task: [], Event: [], Appointment: [], task_assignees: [], event_attendees: []}
    for i in range(n):
        when = start + timedelta(hours=7 * i)
        model = (Task, Event, Appointment)[i % 3]
        item_id = next_id[model] + len(rows[model])
        common = {"id": item_id, "company_id": company, "title": f"{model.__name__} {i}",
                  "created_at": when, "updated_at": utcnow()}
        if model is Task:
            rows[Task].append({**common, "notes": f"notes {i}", "due_date": when.date(), "done": False})
            rows[task_assignees].append({"task_id": item_id, "user_id": me})
        elif model is Event:
            rows[Event].append({**common, "description": "d", "location": "HQ", "all_day": False,
                                "start_at": when, "end_at": when + timedelta(hours=1),
                                "timezone": "Europe/London"})
            rows[event_attendees].append({"event_id": item_id, "user_id": me})
        else:
            rows[Appointment].append({**common, "start_at": when, "end_at": when + timedelta(minutes=30),
                                      "timezone": "Europe/London", "staff_id": me,
                                      "contact_id": contact.id, "location": "", "meeting_link": ""})
    for target, batch in rows.items():
        if batch:
            table = target if isinstance(target, sa.Table) else target.__table__
            db.session.execute(sa.insert(table), batch)
    db.session.commit()
