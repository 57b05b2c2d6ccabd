"""Fixtures for the portal tests: the item builders of testsupport.factories (bound to the test's app), and
the company's people by role."""
from __future__ import annotations

import pytest

from app.models import Role, User
from testsupport import factories


@pytest.fixture
def make_task(app):
    return factories.make_task


@pytest.fixture
def make_event(app):
    return factories.make_event


@pytest.fixture
def make_appointment(app):
    return factories.make_appointment


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
