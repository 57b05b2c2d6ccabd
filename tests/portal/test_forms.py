"""Bad input on every portal form gets a 400 and a clear message next to the field, never a 500,
and nothing is saved; the form comes back with what the person typed."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Appointment, Event, Role, Task
from app.portal.forms import UNKNOWN_PERSON
from tests.conftest import post_form

MODELS = {"task": Task, "event": Event, "appointment": Appointment}
PATHS = {"task": "/tasks/new", "event": "/events/new", "appointment": "/appointments/new"}


def valid_data(kind: str, users) -> dict:
    staff, client = users[Role.STAFF], users[Role.CLIENT]
    return {
        "task": {"title": "Send documents", "due_date": "2030-05-06", "assignees": [staff.id, client.id]},
        "event": {"title": "Planning", "start_date": "2030-05-06", "start_time": "09:00", "end_time": "10:00",
                  "timezone": "Europe/London", "attendees": [staff.id, client.id]},
        "appointment": {"title": "Consultation", "start_date": "2030-05-06", "start_time": "09:00",
                        "end_time": "10:00", "timezone": "Europe/London", "staff": staff.id, "contact": client.id},
    }[kind]


def count(kind: str) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(MODELS[kind]))


@pytest.mark.parametrize("kind", MODELS)
def test_valid_form_creates_the_item(kind, login_as, users):
    client = login_as(users[Role.STAFF])
    response = post_form(client, PATHS[kind], valid_data(kind, users))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert count(kind) == 1


BAD_INPUT = [
    # (kind, changes to the valid data, message shown next to the field)
    *[(kind, {"title": ""}, "A title is required.") for kind in MODELS],
    *[(kind, {"title": "   "}, "A title is required.") for kind in MODELS],
    *[(kind, {"title": "x" * 10_000}, "Keep the title to 200 characters or fewer.") for kind in MODELS],
    ("task", {"due_date": "2030-02-30"}, "Not a valid date: use the format YYYY-MM-DD."),
    ("task", {"due_date": "1900-01-01"}, "Pick a date between 1970 and 2100."),
    ("task", {"due_date": "", "due_time": "10:00"}, "Pick a due date for this time."),
    ("task", {"due_time": "25:99"}, "Not a valid time: use the format HH:MM."),
    ("task", {"notes": "n" * 5001}, "Keep the notes to 5,000 characters or fewer."),
    ("task", {"assignees": ["999999"]}, UNKNOWN_PERSON),
    ("task", {"assignees": ["abc"]}, UNKNOWN_PERSON),
    ("event", {"start_date": "next tuesday"}, "Not a valid date: use the format YYYY-MM-DD."),
    ("event", {"start_date": ""}, "Start date is required."),
    ("event", {"start_date": "2150-01-01"}, "Pick a date between 1970 and 2100."),
    ("event", {"end_time": "08:00"}, "The end must be after the start."),
    ("event", {"end_date": "2030-05-05"}, "The end must be after the start."),
    ("event", {"end_time": ""}, "End time is required."),
    ("event", {"all_day": "y", "end_date": "2030-05-01"}, "The end date must be on or after the start date."),
    ("event", {"timezone": "Mars/Olympus_Mons"}, "Choose a time zone from the list."),
    ("appointment", {"timezone": ""}, "Choose a time zone from the list."),
    ("event", {"location": "l" * 256}, "Keep the location to 255 characters or fewer."),
    ("event", {"attendees": ["999999"]}, UNKNOWN_PERSON),
    ("appointment", {"start_date": "06/05/2030"}, "Not a valid date: use the format YYYY-MM-DD."),
    ("appointment", {"start_time": "9am"}, "Not a valid time: use the format HH:MM."),
    ("appointment", {"end_time": "08:59"}, "The end must be after the start."),
    ("appointment", {"end_date": "2030-05-08"}, "This can last 24 hours at most."),
    ("appointment", {"contact": "999999"}, UNKNOWN_PERSON),
    ("appointment", {"staff": "not-a-number"}, UNKNOWN_PERSON),
    ("appointment", {"meeting_link": "javascript:alert(1)"}, "Enter a full link, starting with https://"),
    ("appointment", {"meeting_link": "https://meet.example.com/" + "x" * 500},
     "Keep the link to 500 characters or fewer."),
]


@pytest.mark.parametrize("kind,changes,message", BAD_INPUT)
def test_bad_input_gets_400_and_a_message_next_to_the_field(kind, changes, message, login_as, users):
    client = login_as(users[Role.STAFF])
    data = {**valid_data(kind, users), **changes}
    response = post_form(client, PATHS[kind], data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html
    assert 'class="invalid-feedback d-block"' in html
    assert count(kind) == 0


def test_appointment_needs_a_staff_member_and_a_contact_of_the_right_role(login_as, users):
    client = login_as(users[Role.STAFF])
    data = {**valid_data("appointment", users), "staff": users[Role.CLIENT].id, "contact": users[Role.MANAGER].id}
    response = post_form(client, PATHS["appointment"], data)
    assert response.status_code == 400
    assert response.get_data(as_text=True).count(UNKNOWN_PERSON) == 2


@pytest.mark.parametrize("kind", MODELS)
def test_another_companys_user_is_a_field_error(kind, login_as, users, other_company):
    stranger = other_company[1][Role.CLIENT]
    field = {"task": "assignees", "event": "attendees", "appointment": "contact"}[kind]
    client = login_as(users[Role.STAFF])
    response = post_form(client, PATHS[kind], {**valid_data(kind, users), field: [stranger.id]})
    assert response.status_code == 400
    assert UNKNOWN_PERSON in response.get_data(as_text=True)
    assert count(kind) == 0


@pytest.mark.parametrize("kind", MODELS)
def test_wrong_or_missing_csrf_token_is_refused(kind, login_as, users):
    client = login_as(users[Role.STAFF])
    for token in ("forged", None):
        data = valid_data(kind, users)
        if token:
            data["csrf_token"] = token
        response = client.post(PATHS[kind], data=data)
        assert response.status_code == 400
        assert "Your form expired" in response.get_data(as_text=True)
    assert count(kind) == 0


def test_a_rejected_form_keeps_what_was_typed(login_as, users):
    client = login_as(users[Role.STAFF])
    data = {**valid_data("event", users), "description": "Bring the Q3 figures", "end_time": "08:00"}
    html = post_form(client, PATHS["event"], data).get_data(as_text=True)
    assert "Bring the Q3 figures" in html and 'value="Planning"' in html


def test_bad_input_on_edit_changes_nothing(login_as, users, make_event, acme):
    event = make_event(acme, [users[Role.STAFF]], title="Original")
    client = login_as(users[Role.STAFF])
    response = post_form(client, f"/events/{event.id}/edit", {**valid_data("event", users), "end_time": "08:00"})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Event, event.id).title == "Original"
