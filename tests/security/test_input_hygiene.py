"""NUL bytes and repeated values are refused with a 400 and a plain message on every route, before any
view or database sees them (PostgreSQL refuses NUL in text; a repeated id would insert one row twice)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Appointment, Event, Role, Task
from app.security import NUL_MESSAGE, REPEATED_MESSAGE
from tests.conftest import csrf_token, post_form
from tests.portal.test_forms import PATHS, valid_data
from tests.security.conftest import build, rules

MODELS = {"task": Task, "event": Event, "appointment": Appointment}


def item_count() -> int:
    return sum(db.session.scalar(sa.select(sa.func.count()).select_from(model)) for model in MODELS.values())


def assert_refused(response, message: str, url: str) -> None:
    assert response.status_code == 400, f"{url}: {response.status_code}"
    assert message in response.get_data(as_text=True), url


def test_every_post_route_refuses_a_nul_byte_and_a_repeated_value(app, users, login_as):
    admin = login_as(users[Role.ADMIN])
    token = csrf_token(admin, "/dashboard")
    for rule in rules(app, "POST"):
        url = build(app, rule)
        for field in ("title", "email", "name", "calendar_id", "notes"):
            assert_refused(admin.post(url, data={"csrf_token": token, field: "a\x00b"}), NUL_MESSAGE, url)
        assert_refused(admin.post(url, data={"csrf_token": token, "title\x00": "x"}), NUL_MESSAGE, url)
        assert_refused(admin.post(url, data={"csrf_token": token, "assignees": ["5", "5"]}), REPEATED_MESSAGE, url)


def test_every_get_route_refuses_them_in_the_query_string(app, users, login_as, client):
    admin = login_as(users[Role.ADMIN])
    for rule in rules(app, "GET"):
        url = build(app, rule)
        for who in (admin, client):
            assert_refused(who.get(url, query_string={"date": "2030-01-01\x00"}), NUL_MESSAGE, url)
            assert_refused(who.get(url + "?role=staff&role=staff"), REPEATED_MESSAGE, url)
    assert_refused(client.get("/tasks/1%00"), NUL_MESSAGE, "/tasks/1%00")


@pytest.mark.parametrize("kind", MODELS)
@pytest.mark.parametrize("field", ["title", "notes", "description", "location", "timezone", "start_date"])
def test_a_nul_in_any_item_field_saves_nothing(kind, field, users, login_as):
    """On PostgreSQL this was a 500 (it refuses NUL in text); on SQLite the NUL was stored."""
    client = login_as(users[Role.STAFF])
    data = {**valid_data(kind, users), field: "Plan\x00ning"}
    assert_refused(post_form(client, PATHS[kind], data), NUL_MESSAGE, PATHS[kind])
    assert item_count() == 0


@pytest.mark.parametrize("kind, people", [("task", "assignees"), ("event", "attendees")])
def test_a_person_picked_twice_saves_nothing(kind, people, users, login_as):
    client = login_as(users[Role.STAFF])
    staff = users[Role.STAFF]
    response = post_form(client, PATHS[kind], {**valid_data(kind, users), people: [staff.id, staff.id]})
    assert_refused(response, REPEATED_MESSAGE, PATHS[kind])
    assert item_count() == 0


def test_a_nul_in_the_login_form_is_a_400(client, users):
    user = users[Role.STAFF]
    for data in ({"email": user.email + "\x00"}, {"email": user.email, "password": "x\x00"},
                 {"email": user.email, "company": "\x00"}):
        response = client.post("/login", data={"password": "p", **data, "csrf_token": csrf_token(client)})
        assert_refused(response, NUL_MESSAGE, "/login")
