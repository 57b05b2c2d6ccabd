"""Both sides changed: the later change wins and the other is kept. Watch channels and the webhook."""
import time
from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import SyncHistory, utcnow
from tests.conftest import run_jobs
from tests.sync.conftest import CALENDAR, link_for, pull
from testsupport.factories import make_items


def google_title(google, item) -> str:
    return next(e for e in google.events(CALENDAR) if e["id"] == link_for(item).google_event_id)["summary"]


def history_of(item) -> list[SyncHistory]:
    return db.session.scalars(sa.select(SyncHistory).where(SyncHistory.item_id == item.id)).all()


def test_later_google_edit_wins_a_conflict_and_the_portal_version_is_kept(connect, user, google, gcal, app,
                                                                          login_as):
    (task,) = make_items(user, tasks=1)
    connect()
    task.title = "Portal edit"
    db.session.commit()  # its push is queued, not yet run
    time.sleep(0.01)
    gcal.patch(calendarId=CALENDAR, eventId=link_for(task).google_event_id, body={"summary": "Google edit"}).execute()
    pull(app)  # the pull runs before the queued push
    db.session.expire_all()
    assert task.title == "Google edit" and google_title(google, task) == "Google edit"
    (conflict,) = [h for h in history_of(task) if h.action.startswith("conflict")]
    assert conflict.action == "conflict_google_won" and conflict.detail["lost"]["title"] == "Portal edit"
    page = login_as(user).get(f"/tasks/{task.id}").get_data(as_text=True)  # the item's sync history
    assert "Google&#39;s version won" in page and "Portal edit" in page


def test_later_portal_edit_wins_a_conflict_and_the_google_version_is_kept(connect, user, google, gcal, app):
    (task,) = make_items(user, tasks=1)
    connect()
    gcal.patch(calendarId=CALENDAR, eventId=link_for(task).google_event_id, body={"summary": "Google edit"}).execute()
    time.sleep(0.01)
    task.title = "Portal edit"
    db.session.commit()
    pull(app)
    db.session.expire_all()
    assert task.title == "Portal edit" and google_title(google, task) == "Portal edit"
    (conflict,) = history_of(task)
    assert conflict.action == "conflict_portal_won" and conflict.detail["lost"]["title"] == "Google edit"


def test_expiring_channel_is_replaced_and_the_old_one_stopped(connect, user, app, google):
    from jobs.periodic import renew_channel

    connection = connect()
    old = connection.channel_id
    connection.channel_expires_at = utcnow() + timedelta(hours=1)
    db.session.commit()
    renew_channel(connection.id)
    db.session.refresh(connection)
    assert connection.channel_id != old and connection.channel_expires_at > utcnow() + timedelta(days=1)
    google.reset_counters()
    renew_channel(connection.id)  # a second copy of the job finds nothing left to renew
    assert google.counters()["total"] == 0


def test_webhook_refuses_unknown_channels_and_bad_tokens(connect, app):
    connection = connect()
    client = app.test_client()
    headers = {"X-Goog-Channel-ID": connection.channel_id, "X-Goog-Resource-State": "exists"}
    assert client.post("/broker/google/notifications", headers=headers).status_code == 404  # no token
    assert client.post("/broker/google/notifications",
                       headers={**headers, "X-Goog-Channel-Token": "forged"}).status_code == 404
    assert client.post("/broker/google/notifications").status_code == 400
    ok = client.post("/broker/google/notifications", headers={**headers,
                                                             "X-Goog-Channel-Token": connection.channel_token})
    assert ok.status_code == 204
    assert run_jobs(app) == 1  # the pull it asked for


def test_a_busy_connection_makes_jobs_wait_their_turn_not_fail(connect, user, app, google):
    from app.models import SyncLease
    from app.queues import get_queue

    (task,) = make_items(user, tasks=1)
    connection = connect()
    held = SyncLease(connection_id=connection.id, token="another-worker", expires_at=utcnow() + timedelta(minutes=1))
    db.session.add(held)  # another worker is syncing this connection
    task.title = "while busy"
    db.session.commit()
    run_jobs(app)
    queue = get_queue()
    assert queue.failed_job_registry.count == 0
    assert queue.scheduled_job_registry.count == 1  # will run again shortly
    db.session.delete(held)
    db.session.commit()
    from jobs.sync import push_changes

    push_changes(connection.id)  # what the retry does
    assert google_title(google, task) == "while busy"
