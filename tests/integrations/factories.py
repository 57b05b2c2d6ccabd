"""Rows for sync tests: items a user takes part in, spread over the coming weeks.

Tasks and events are created by the user (so a contact may change them, in the portal and from Google);
appointments by the staff member, as only staff may create or change those.
"""
from __future__ import annotations

from datetime import timedelta

from app.extensions import db
from app.models import Appointment, Event, Role, Task, User, utcnow


def make_items(user: User, tasks: int = 0, events: int = 0, appointments: int = 0) -> list:
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
