"""Change calendar from the active card, Delete with "remove the events", Retry, and sync health in words."""
from __future__ import annotations

import re

import sqlalchemy as sa

from app.extensions import db
from app.models import CalendarConnection, FailureKind, PendingPush, Role, RunKind, SyncRun
from app.sync.failures import record_failure
from app.sync.notes import Code, Note
from app.sync.runs import new_run
from tests.conftest import post_form, run_jobs
from tests.google_flow import sign_in_with_google
from tests.sync.conftest import live_events as live
from testsupport.factories import make_items

CALENDAR = "alex@example.com"


def connected(user, client, app) -> CalendarConnection:
    sign_in_with_google(client)
    post_form(client, "/integrations/two-way/push", {"calendar_id": CALENDAR}, page="/integrations/")
    run_jobs(app)
    return connection_of(user)


def connection_of(user) -> CalendarConnection | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(CalendarConnection).where(CalendarConnection.user_id == user.id))


def portal_copies(google, calendar_id: str) -> list[dict]:
    return [e for e in google.events(calendar_id) if e.get("status") != "cancelled"
            and "portalRef" in (e.get("extendedProperties") or {}).get("private", {})]


def test_change_calendar_moves_every_item_to_a_named_new_calendar(google, users, login_as, app):
    user = users[Role.CLIENT]
    items = make_items(user, tasks=2, events=2, appointments=1)
    client = login_as(user)
    before = connected(user, client, app)
    old_channel = before.channel_id
    assert len(portal_copies(google, CALENDAR)) == 5

    page = client.get("/integrations/?change=two-way").get_data(as_text=True)
    assert 'id="two-way-change-calendar"' in page and "Name of the new calendar" in page
    response = post_form(client, "/integrations/two-way/calendar",
                         {"calendar_id": "__new__", "new_calendar_name": "Acme appointments"},
                         page="/integrations/?change=two-way")
    assert response.status_code == 302
    run_jobs(app)

    after = connection_of(user)
    assert after.calendar_id != CALENDAR and after.calendar_summary == "Acme appointments"
    assert portal_copies(google, CALENDAR) == []  # the old copies are gone
    moved = portal_copies(google, after.calendar_id)
    assert sorted(e["summary"] for e in moved) == sorted(item.title for item in items)  # once each
    assert after.channel_id and after.channel_id != old_channel and after.sync_token
    run = db.session.scalar(sa.select(SyncRun).where(SyncRun.kind == "change_calendar"))
    assert run.status == "succeeded" and run.deleted == 5 and run.percent == 100

    # Saving the same calendar again changes nothing.
    again = post_form(client, "/integrations/two-way/calendar", {"calendar_id": after.calendar_id},
                      page="/integrations/?change=two-way", follow_redirects=True)
    assert "already sync with Acme appointments" in again.get_data(as_text=True)


def test_background_runs_never_take_over_the_card_after_a_move(google, users, login_as, app):
    """A move ends with a first pull; edits and notifications start runs all day. The page reloaded after the
    move shows the new calendar, not a progress bar of one of those, which would never reload it again."""
    user = users[Role.CLIENT]
    make_items(user, tasks=2)
    client = login_as(user)
    connected(user, client, app)
    post_form(client, "/integrations/two-way/calendar", {"calendar_id": "__new__", "new_calendar_name": "Moved"},
              page="/integrations/?change=two-way")
    run_jobs(app)
    connection = connection_of(user)
    for kind in (RunKind.PULL, RunKind.PUSH):
        new_run(connection, kind)
    db.session.commit()
    page = client.get("/integrations/").get_data(as_text=True)
    assert 'id="sync-progress"' not in page
    assert re.search(r'id="two-way-active">\s*Your portal items are synced with <strong>Moved</strong>', page)
    new_run(connection, RunKind.SYNC)  # "Sync now" is the user's own: its card follows it
    db.session.commit()
    assert 'id="sync-progress"' in client.get("/integrations/").get_data(as_text=True)


def test_delete_can_remove_the_pushed_events_first(google, users, login_as, app):
    user = users[Role.CLIENT]
    make_items(user, tasks=3, appointments=1)
    client = login_as(user)
    connected(user, client, app)
    assert len(portal_copies(google, CALENDAR)) == 4
    response = post_form(client, "/integrations/two-way/delete", {"events": "remove"}, page="/integrations/")
    assert response.status_code == 302
    assert connection_of(user) is not None  # until the job has removed the events
    run_jobs(app)
    assert portal_copies(google, CALENDAR) == []
    assert connection_of(user) is None
    run = db.session.scalar(sa.select(SyncRun).where(SyncRun.kind == "remove_events"))
    assert run.status == "succeeded" and run.deleted == 4


def test_delete_keeps_the_events_by_default(google, users, login_as, app):
    user = users[Role.CLIENT]
    make_items(user, tasks=2)
    client = login_as(user)
    connected(user, client, app)
    post_form(client, "/integrations/two-way/delete", {"events": "keep"}, page="/integrations/")
    assert connection_of(user) is None
    assert len(portal_copies(google, CALENDAR)) == 2
    assert post_form(login_as(user), "/integrations/two-way/delete", {"events": "burn"},
                     page="/integrations/").status_code == 404  # no connection left to delete


def test_bad_delete_choice_is_a_400(google, users, login_as, app):
    user = users[Role.CLIENT]
    client = login_as(user)
    sign_in_with_google(client)
    assert post_form(client, "/integrations/two-way/delete", {"events": "burn"},
                     page="/integrations/").status_code == 400
    assert connection_of(user) is not None


def failed_run(connection, detail: str) -> SyncRun:
    """A run that crashed on a bug: its code says so, the exception is its detail for support."""
    run = SyncRun(company_id=connection.company_id, user_id=connection.user_id, connection_id=connection.id,
                  kind="push", status="failed", outcome="unexpected", outcome_params={"by_itself": True},
                  detail=detail)
    db.session.add(run)
    db.session.commit()
    return run


def refused(connection, task) -> None:
    """The marker the push leaves when Google refuses an item (see tests/sync/test_item_isolation.py)."""
    record_failure(connection, "task", task.id, FailureKind.REFUSED, Note(Code.ITEM_REFUSED, {"status": 400}),
                   "PermanentError 400 invalid: Invalid time zone definition.")
    db.session.commit()


def test_health_names_items_not_in_google_in_plain_words_with_retry(google, users, login_as, app):
    user = users[Role.CLIENT]
    client = login_as(user)
    connection = connected(user, client, app)
    (task,) = make_items(user, tasks=1)
    run_jobs(app)  # pushed: now pretend a later push of it was refused
    db.session.execute(sa.text("DELETE FROM event_link WHERE item_type = 'task'"))
    refused(connection, task)
    failed_run(connection, "AttributeError: 'NoneType' object has no attribute 'isoformat'")
    page = client.get("/integrations/").get_data(as_text=True)
    health = page.split('class="sync-health', 1)[1].split("</details>\n", 1)[0]
    assert "1 item is not in Google." in health and task.title in health
    assert "Google refused it as invalid." in health
    assert "An unexpected error stopped the sync; it will be tried again by itself." in page
    for developer_text in ("AttributeError", "NoneType", f"#{task.id}", "isoformat"):
        assert developer_text not in page, developer_text
    assert f'id="retry-task-{task.id}"' in health

    response = post_form(client, f"/tasks/{task.id}/sync/retry", {"back": "integrations"}, page="/integrations/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/integrations/")
    assert db.session.scalar(sa.select(PendingPush).where(PendingPush.item_id == task.id))
    run_jobs(app)
    client.get("/integrations/")  # the flash of the Retry
    assert "not-in-google" not in client.get("/integrations/").get_data(as_text=True)  # it reached Google


def test_retry_refuses_items_of_others(google, users, login_as, app):
    owner, other = users[Role.CLIENT], users[Role.PROSPECT]
    (task,) = make_items(owner, tasks=1)
    intruder = login_as(other)
    sign_in_with_google(intruder, email="sam@example.com")
    assert post_form(intruder, f"/tasks/{task.id}/sync/retry", {}, page="/integrations/").status_code == 404


def test_admin_sees_each_connections_health_with_the_details(google, users, login_as, app):
    user = users[Role.CLIENT]
    connection = connected(user, login_as(user), app)
    (task,) = make_items(user, tasks=1)
    run_jobs(app)
    db.session.execute(sa.text("DELETE FROM event_link WHERE item_type = 'task'"))
    refused(connection, task)
    failed_run(connection, "AttributeError: 'NoneType' object has no attribute 'isoformat'")
    page = login_as(users[Role.ADMIN]).get("/settings/connections").get_data(as_text=True)
    assert "item is not in Google" in page and task.title in page
    assert "AttributeError" in page.split("Details for support", 1)[1]  # for support, behind the disclosure
    assert f'id="retry-task-{task.id}"' not in page  # Retry is the user's own


def test_the_one_way_card_does_not_call_a_broken_two_way_active(google, users, login_as, app):
    user = users[Role.CLIENT]
    client = login_as(user)
    sign_in_with_google(client, tick=[])  # no box ticked: the 2-way card needs attention
    page = client.get("/integrations/").get_data(as_text=True)
    assert 'id="two-way-attention"' in page
    assert "Not needed" not in page and "Not available while you have the 2-WAY Sync" in page


def test_push_existing_data_into_another_calendar_moves_the_events_and_leaves_no_copy_behind(
        google, users, login_as, app):
    user = users[Role.CLIENT]
    tasks = make_items(user, tasks=3)
    client = login_as(user)
    connection = connected(user, client, app)
    assert len(live(google, CALENDAR)) == 3
    response = post_form(client, "/integrations/two-way/push", {"calendar_id": "__new__",
                                                                "new_calendar_name": "Portal items"},
                         page="/integrations/", follow_redirects=True)
    assert "Moving your portal items to Portal items" in response.get_data(as_text=True)
    run_jobs(app)
    db.session.refresh(connection)
    run = db.session.scalar(sa.select(SyncRun).order_by(SyncRun.id.desc()).where(SyncRun.kind != RunKind.PULL))
    assert run.kind is RunKind.CHANGE_CALENDAR and connection.calendar_summary == "Portal items"
    assert live(google, CALENDAR) == []  # nothing left behind, cut off from sync
    assert sorted(e["summary"] for e in live(google, connection.calendar_id)) == sorted(t.title for t in tasks)
