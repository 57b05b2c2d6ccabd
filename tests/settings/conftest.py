"""Fixtures for the Company Settings tests (rows come from testsupport.factories)."""
from __future__ import annotations

import pytest


@pytest.fixture
def admin(users, login_as):
    """A test client signed in as the company admin."""
    from app.models import Role

    return login_as(users[Role.ADMIN])
