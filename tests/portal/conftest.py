"""Item factories for the portal tests: rows made directly, so each test states only what it needs."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from app.extensions import db
from app.models import Appointment, Event, Role, Task, User


def saved(row):
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def make_task(app):
    def _make(company, assignees: list[User], title: str = "Send documents", **fields) -> Task:
        return saved(Task(company=company, title=title, assignees=assignees, **fields))
    return _make


@pytest.fixture
def make_event(app):
    def _make(company, attendees: list[User], title: str = "Planning", **fields) -> Event:
        if not fields.get("all_day"):
            fields.setdefault("start_at", datetime(2030, 5, 6, 9, 0))
            fields.setdefault("end_at", fields["start_at"] + timedelta(hours=1))
        else:
            fields.setdefault("start_date", date(2030, 5, 6))
            fields.setdefault("end_date", fields["start_date"])
        return saved(Event(company=company, title=title, attendees=attendees, timezone="Europe/London", **fields))
    return _make


@pytest.fixture
def make_appointment(app):
    def _make(company, staff: User, contact: User, title: str = "Consultation", **fields) -> Appointment:
        fields.setdefault("start_at", datetime(2030, 5, 7, 14, 0))
        fields.setdefault("end_at", fields["start_at"] + timedelta(minutes=45))
        return saved(Appointment(company=company, title=title, staff=staff, contact=contact,
                                 timezone="Europe/London", **fields))
    return _make


@pytest.fixture
def acme(company):
    return company[0]


@pytest.fixture
def staff(users) -> User:
    return users[Role.STAFF]


@pytest.fixture
def client_user(users) -> User:
    return users[Role.CLIENT]


@pytest.fixture
def prospect(users) -> User:
    return users[Role.PROSPECT]
