"""Nothing crosses companies, and contacts only see (and change) what is theirs."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Role, Task
from tests.conftest import post_form


@pytest.fixture
def foreign_items(other_company, make_task, make_event, make_appointment):
    """One item of each kind in another company, with everyone there taking part."""
    globex, people = other_company
    return {
        "tasks": make_task(globex, list(people.values()), title="Globex secret task"),
        "events": make_event(globex, list(people.values()), title="Globex secret event"),
        "appointments": make_appointment(globex, people[Role.STAFF], people[Role.CLIENT], title="Globex secret appt"),
    }


@pytest.mark.parametrize("role", [Role.ADMIN, Role.CLIENT])
@pytest.mark.parametrize("plural", ["tasks", "events", "appointments"])
def test_another_companys_item_ids_in_urls_get_404(plural, role, foreign_items, login_as, users):
    item = foreign_items[plural]
    client = login_as(users[role])
    assert client.get(f"/{plural}/{item.id}").status_code == 404
    assert client.get(f"/{plural}/{item.id}/edit").status_code == 404
    assert post_form(client, f"/{plural}/{item.id}/edit", {"title": "Hijacked"}).status_code == 404
    assert post_form(client, f"/{plural}/{item.id}/delete", {}).status_code == 404
    listing = client.get(f"/{plural}").get_data(as_text=True)
    assert "Globex secret" not in listing
    db.session.expire_all()
    assert item.title.startswith("Globex secret") and item.deleted_at is None


def test_another_companys_trashed_item_cannot_be_restored_or_seen(foreign_items, login_as, users):
    task = foreign_items["tasks"]
    task.deleted_at = task.created_at
    db.session.commit()
    client = login_as(users[Role.ADMIN])
    assert "Globex secret" not in client.get("/trash").get_data(as_text=True)
    assert post_form(client, f"/trash/task/{task.id}/restore", {}).status_code == 404
    assert post_form(client, f"/tasks/{task.id}/done", {}).status_code == 404


def test_ids_too_large_for_the_database_are_404(login_as, users):
    client = login_as(users[Role.STAFF])
    assert client.get("/tasks/99999999999999999999999").status_code == 404
    assert client.get("/events/abc").status_code == 404


def test_contacts_see_only_items_they_take_part_in(acme, users, login_as, make_task, make_event, make_appointment):
    client_user, prospect, staff = users[Role.CLIENT], users[Role.PROSPECT], users[Role.STAFF]
    mine = make_task(acme, [client_user], title="Client's task")
    theirs = make_task(acme, [prospect], title="Prospect's task")
    make_event(acme, [prospect, staff], title="Prospect's event")
    make_appointment(acme, staff, client_user, title="Client's appointment")
    other_appt = make_appointment(acme, staff, prospect, title="Prospect's appointment")

    client = login_as(client_user)
    assert "Client&#39;s task" in client.get("/tasks").get_data(as_text=True)
    assert "Prospect" not in client.get("/tasks").get_data(as_text=True).split("<main")[1]
    assert "Prospect&#39;s event" not in client.get("/events").get_data(as_text=True)
    appointments = client.get("/appointments").get_data(as_text=True)
    assert "Client&#39;s appointment" in appointments and "Prospect&#39;s appointment" not in appointments
    assert client.get(f"/tasks/{mine.id}").status_code == 200
    assert client.get(f"/tasks/{theirs.id}").status_code == 404
    assert client.get(f"/appointments/{other_appt.id}").status_code == 404

    staff_client = login_as(users[Role.MANAGER])
    assert "Prospect&#39;s task" in staff_client.get("/tasks").get_data(as_text=True)
    assert staff_client.get(f"/tasks/{theirs.id}").status_code == 200


def test_contacts_cannot_create_or_change_appointments(acme, users, login_as, make_appointment):
    appointment = make_appointment(acme, users[Role.STAFF], users[Role.CLIENT])
    client = login_as(users[Role.CLIENT])
    assert client.get("/appointments/new").status_code == 403
    assert "New appointment" not in client.get("/appointments").get_data(as_text=True)
    assert client.get(f"/appointments/{appointment.id}/edit").status_code == 403
    assert post_form(client, f"/appointments/{appointment.id}/delete", {}).status_code == 403


def test_a_contacts_new_task_always_includes_them(users, login_as):
    client_user = users[Role.CLIENT]
    client = login_as(client_user)
    response = post_form(client, "/tasks/new", {"title": "Upload statements", "assignees": [users[Role.STAFF].id]})
    assert response.status_code == 302
    task = db.session.scalar(sa.select(Task))
    assert {u.id for u in task.assignees} == {client_user.id, users[Role.STAFF].id}
    assert task.created_by_id == client_user.id


def test_contacts_cannot_pick_other_contacts(users, login_as):
    client = login_as(users[Role.CLIENT])
    form = client.get("/tasks/new").get_data(as_text=True)
    assert users[Role.STAFF].name in form and users[Role.PROSPECT].name not in form
    response = post_form(client, "/tasks/new", {"title": "Hi", "assignees": [users[Role.PROSPECT].id]})
    assert response.status_code == 400


def test_a_contact_edits_only_what_they_created_but_may_tick_off_their_tasks(acme, users, login_as, make_task):
    client_user = users[Role.CLIENT]
    task = make_task(acme, [client_user, users[Role.STAFF]], title="From staff", due_date=date(2030, 1, 2))
    client = login_as(client_user)
    assert client.get(f"/tasks/{task.id}/edit").status_code == 403
    assert post_form(client, f"/tasks/{task.id}/done", {}).status_code == 302
    db.session.expire_all()
    assert task.done is True


def test_a_contacts_edit_keeps_participants_they_cannot_see(acme, users, login_as, make_task):
    client_user, prospect = users[Role.CLIENT], users[Role.PROSPECT]
    task = make_task(acme, [client_user, prospect], title="Shared", created_by_id=client_user.id)
    client = login_as(client_user)
    response = post_form(client, f"/tasks/{task.id}/edit", {"title": "Shared, renamed", "assignees": []})
    assert response.status_code == 302
    db.session.expire_all()
    assert task.title == "Shared, renamed"
    assert {u.id for u in task.assignees} == {client_user.id, prospect.id}
