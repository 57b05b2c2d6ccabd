"""An unexpected error: the progress poller gets JSON it can read, a person gets a plain page; neither
sees the exception. The failing view breaks the database transaction (as a failed statement does on
PostgreSQL), so the handler must still render the normal page frame, which reads the user's company."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_login import current_user, login_required

from app.extensions import db
from app.models import Role

PLAIN = "Something went wrong on our side. Please try again in a moment."


@pytest.fixture
def failing_url(app):
    @login_required
    def fails():
        assert current_user.id
        db.session.execute(sa.text("SELECT no_such_column FROM no_such_table"))

    app.add_url_rule("/test-only/fails", view_func=fails)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the handler answers, not the test client
    return "/test-only/fails"


@pytest.mark.parametrize("headers", [{"Accept": "application/json"}, {"X-Requested-With": "XMLHttpRequest"}])
def test_the_poller_gets_json(headers, failing_url, login_as, users):
    response = login_as(users[Role.CLIENT]).get(failing_url, headers=headers)
    assert response.status_code == 500
    assert response.get_json() == {"error": PLAIN}


def test_a_person_gets_a_plain_page(failing_url, login_as, users):
    browser_accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = login_as(users[Role.CLIENT]).get(failing_url, headers={"Accept": browser_accept})
    assert response.status_code == 500 and response.headers["Content-Type"].startswith("text/html")
    page = response.get_data(as_text=True)
    assert PLAIN in page and "no_such_table" not in page and "Traceback" not in page
    assert 'id="company-name"' in page  # the normal page frame: the session was usable after the error
