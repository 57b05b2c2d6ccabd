"""Delete is a soft delete (so sync can remove Google copies), and the Trash brings items back."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Appointment, Event, Role, Task
from tests.conftest import post_form


@pytest.fixture
def one_of_each(acme, users, make_task, make_event, make_appointment):
    staff, client = users[Role.STAFF], users[Role.CLIENT]
    return {"task": make_task(acme, [staff, client], title="Binned task"),
            "event": make_event(acme, [staff, client], title="Binned event"),
            "appointment": make_appointment(acme, staff, client, title="Binned appointment")}


@pytest.mark.parametrize("kind,model", [("task", Task), ("event", Event), ("appointment", Appointment)])
def test_delete_moves_the_item_to_the_trash_and_restore_brings_it_back(kind, model, one_of_each, users, login_as):
    item = one_of_each[kind]
    client = login_as(users[Role.STAFF])
    detail = client.get(f"/{kind}s/{item.id}").get_data(as_text=True)
    assert "data-confirm=" in detail  # the browser asks before deleting

    response = post_form(client, f"/{kind}s/{item.id}/delete", {})
    assert response.status_code == 302 and response.headers["Location"] == f"/{kind}s"
    db.session.expire_all()
    assert db.session.get(model, item.id).deleted_at is not None  # the row is kept
    assert client.get(f"/{kind}s/{item.id}").status_code == 404
    assert f"Binned {kind}" not in client.get(f"/{kind}s").get_data(as_text=True)
    assert f"Binned {kind}" in client.get("/trash").get_data(as_text=True)

    response = post_form(client, f"/trash/{kind}/{item.id}/restore", {})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(model, item.id).deleted_at is None
    assert client.get(f"/{kind}s/{item.id}").status_code == 200
    assert f"Binned {kind}" not in client.get("/trash").get_data(as_text=True)


def test_delete_needs_a_post(one_of_each, users, login_as):
    client = login_as(users[Role.STAFF])
    assert client.get(f"/tasks/{one_of_each['task'].id}/delete").status_code == 405
    assert db.session.scalar(sa.select(Task.deleted_at)) is None


def test_deleting_twice_or_restoring_a_live_item_is_404(one_of_each, users, login_as):
    task = one_of_each["task"]
    client = login_as(users[Role.STAFF])
    assert post_form(client, f"/trash/task/{task.id}/restore", {}).status_code == 404
    assert post_form(client, f"/tasks/{task.id}/delete", {}).status_code == 302
    assert post_form(client, f"/tasks/{task.id}/delete", {}).status_code == 404


def test_the_trash_shows_contacts_only_their_items_and_restores_only_what_they_may_change(
        acme, users, login_as, one_of_each, make_task):
    client_user = users[Role.CLIENT]
    own = make_task(acme, [client_user], title="Client's own", created_by_id=client_user.id)
    hidden = make_task(acme, [users[Role.PROSPECT]], title="Prospect only")
    for item in (own, hidden, one_of_each["task"]):
        item.deleted_at = item.created_at
    db.session.commit()

    client = login_as(client_user)
    trash = client.get("/trash").get_data(as_text=True)
    assert "Client&#39;s own" in trash and "Binned task" in trash and "Prospect only" not in trash
    assert trash.count(">Restore</button>") == 1
    assert post_form(client, f"/trash/task/{one_of_each['task'].id}/restore", {}).status_code == 403
    assert post_form(client, f"/trash/task/{hidden.id}/restore", {}).status_code == 404
    assert post_form(client, f"/trash/task/{own.id}/restore", {}).status_code == 302


def test_lists_link_to_the_trash(users, login_as):
    client = login_as(users[Role.CLIENT])
    for path in ("/tasks", "/events", "/appointments"):
        assert 'href="/trash"' in client.get(path).get_data(as_text=True)
