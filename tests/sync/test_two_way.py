"""Scenario tests of the 2-way sync through the real worker, Redis, client libraries and emulator."""
import time
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import (
    ConnectionStatus,
    Event,
    EventLink,
    GoogleEvent,
    Role,
    SyncHistory,
    SyncRun,
    Task,
    utcnow,
)
from tests.conftest import post_form, run_jobs
from tests.sync.conftest import CALENDAR, link_for, live_events, pull
from testsupport.factories import make_items
from testsupport.helpers import wait_until


def google_event(google, item) -> dict:
    link = link_for(item)
    return next(e for e in google.events(CALENDAR) if e["id"] == link.google_event_id)


def test_portal_edit_moves_the_google_event(connect, user, users, google, app, login_as):
    (appointment,) = make_items(user, appointments=1)
    connect()
    staff = login_as(users[Role.STAFF])  # staff edit appointments, through the appointment form
    response = post_form(staff, f"/appointments/{appointment.id}/edit", {
        "title": "Consultation, moved", "start_date": "2031-03-04", "start_time": "15:00", "end_date": "",
        "end_time": "16:00", "timezone": "Europe/London", "staff": appointment.staff_id,
        "contact": appointment.contact_id, "location": "Room 1", "meeting_link": ""},
        page=f"/appointments/{appointment.id}/edit")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert run_jobs(app) == 1
    moved = google_event(google, appointment)
    assert moved["summary"] == "Consultation, moved"
    assert moved["start"]["timeZone"] == "Europe/London"
    assert datetime.fromisoformat(moved["start"]["dateTime"]) == datetime.fromisoformat("2031-03-04T15:00:00+00:00")
    assert datetime.fromisoformat(moved["end"]["dateTime"]) == datetime.fromisoformat("2031-03-04T16:00:00+00:00")


def test_google_title_edit_comes_back_through_the_webhook(connect, user, google, gcal, app, live_server):
    (appointment,) = make_items(user, tasks=1)  # a task the client created: theirs to rename
    connection = connect()
    assert connection.channel_id  # watching
    event = google_event(google, appointment)
    gcal.patch(calendarId=CALENDAR, eventId=event["id"], body={"summary": "Renamed in Google"}).execute()
    from app.queues import get_queue

    wait_until(lambda: get_queue().count > 0, timeout=10)  # Google's notification reached our webhook
    run_jobs(app)
    db.session.refresh(appointment)
    assert appointment.title == "Renamed in Google"
    history = db.session.scalars(sa.select(SyncHistory).where(SyncHistory.item_id == appointment.id)).all()
    assert [h.action for h in history] == ["changed_in_google"]


def test_pulled_change_is_not_pushed_back(connect, user, google, gcal, app):
    (task,) = make_items(user, tasks=1)
    connect()
    event = google_event(google, task)
    gcal.patch(calendarId=CALENDAR, eventId=event["id"], body={"summary": "From Google"}).execute()
    google.reset_counters()
    pull(app)
    assert db.session.get(Task, task.id).title == "From Google"
    counters = google.counters()
    assert _writes(counters) == 0, counters
    assert run_jobs(app) == 0  # nothing left queued: no echo push


def _writes(counters: dict) -> int:
    """Calendar API writes in the emulator's counters ({"methods": {"calendar.events.patch": n, ...}})."""
    return sum(n for method, n in counters["methods"].items()
               if method.rsplit(".", 1)[-1] in ("insert", "patch", "update", "delete", "watch"))


def test_portal_delete_deletes_the_google_copy(connect, user, google, app):
    (event,) = make_items(user, events=1)
    connect()
    event_id = link_for(event).google_event_id
    event.deleted_at = utcnow()
    db.session.commit()
    run_jobs(app)
    assert next(e for e in google.events(CALENDAR) if e["id"] == event_id)["status"] == "cancelled"
    assert link_for(event) is None


def test_google_delete_unlinks_shared_items_and_trashes_own_items(connect, user, users, google, gcal, app):
    own, shared = make_items(user, tasks=2)
    shared.assignees = [user, users[Role.STAFF]]
    db.session.commit()
    connect()
    for item in (own, shared):
        gcal.delete(calendarId=CALENDAR, eventId=link_for(item).google_event_id).execute()
    pull(app)
    db.session.expire_all()
    assert own.deleted_at is not None  # restorable trash, not destroyed
    assert shared.deleted_at is None  # shared data is never destroyed
    assert link_for(own) is None and link_for(shared) is None
    actions = {h.item_id: h.action for h in db.session.scalars(sa.select(SyncHistory))}
    assert actions == {own.id: "trashed_after_google_delete", shared.id: "unlinked_after_google_delete"}


def test_removing_a_participant_removes_their_copy(connect, user, users, google, app):
    (event,) = make_items(user, events=1)
    connect()
    event_id = link_for(event).google_event_id
    event.attendees = [users[Role.STAFF]]
    db.session.commit()
    run_jobs(app)
    assert next(e for e in google.events(CALENDAR) if e["id"] == event_id)["status"] == "cancelled"


def test_recurring_google_event_with_moved_and_cancelled_instances(connect, user, google, gcal, app, login_as):
    connect()
    monday = (utcnow() + timedelta(days=7 - utcnow().weekday())).date()
    master = gcal.insert(calendarId=CALENDAR, body={
        "summary": "Weekly stand-up", "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=8"],
        "start": {"dateTime": f"{monday}T09:00:00", "timeZone": "Europe/London"},
        "end": {"dateTime": f"{monday}T09:30:00", "timeZone": "Europe/London"}}).execute()
    instances = gcal.instances(calendarId=CALENDAR, eventId=master["id"]).execute()["items"]
    assert len(instances) == 8
    moved, cancelled = instances[2], instances[5]
    moved_day = date.fromisoformat(moved["start"]["dateTime"][:10]) + timedelta(days=1)
    gcal.patch(calendarId=CALENDAR, eventId=moved["id"], body={
        "start": {"dateTime": f"{moved_day}T14:00:00", "timeZone": "Europe/London"},
        "end": {"dateTime": f"{moved_day}T15:00:00", "timeZone": "Europe/London"}}).execute()
    gcal.delete(calendarId=CALENDAR, eventId=cancelled["id"]).execute()
    pull(app)
    rows = db.session.scalars(sa.select(GoogleEvent).order_by(GoogleEvent.start_at)).all()
    assert len(rows) == 7
    assert all(r.recurring_event_id == master["id"] for r in rows)
    starts = [r.start_at for r in rows]
    moved_local = datetime.combine(moved_day, datetime.min.time()).replace(hour=14)
    assert moved_local - timedelta(hours=_london_offset(moved_day)) in starts
    cancelled_day = date.fromisoformat(cancelled["start"]["dateTime"][:10])
    assert cancelled_day not in {s.date() for s in starts}
    client = login_as(user)
    cancelled_week = (cancelled_day - monday).days // 7
    for week in range(8):
        page = client.get(f"/calendar/?view=week&date={monday + timedelta(weeks=week)}").get_data(as_text=True)
        assert page.count('title="Weekly stand-up"') == (0 if week == cancelled_week else 1), week


def test_events_under_the_longest_ids_google_allows_come_in(connect, user, google, gcal, app):
    """Another app may name its events (5 to 1,024 characters); a recurring one's instances add their time."""
    connect()
    monday = (utcnow() + timedelta(days=7 - utcnow().weekday())).date()
    long_id = "v0" * 512
    gcal.insert(calendarId=CALENDAR, body={
        "id": long_id, "summary": "Named by another app", "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=2"],
        "start": {"dateTime": f"{monday}T09:00:00", "timeZone": "UTC"},
        "end": {"dateTime": f"{monday}T09:30:00", "timeZone": "UTC"}}).execute()
    pull(app)
    rows = db.session.scalars(sa.select(GoogleEvent)).all()
    assert len(rows) == 2 and all(r.recurring_event_id == long_id for r in rows)
    assert all(len(r.google_event_id) > 1024 for r in rows)
    assert db.session.scalar(sa.select(SyncRun).order_by(SyncRun.id.desc())).status == "succeeded"


def _london_offset(day: date) -> int:
    from zoneinfo import ZoneInfo

    midnight = datetime.combine(day, datetime.min.time(), ZoneInfo("Europe/London"))
    return int(midnight.utcoffset().total_seconds() // 3600)


def test_all_day_multi_day_keeps_its_days_both_ways(connect, user, google, gcal, app):
    start = utcnow().date() + timedelta(days=3)
    event = Event(company_id=user.company_id, title="Conference", all_day=True, start_date=start, created_by_id=user.id,
                  end_date=start + timedelta(days=2), attendees=[user])
    db.session.add(event)
    db.session.commit()
    connect()
    copy = google_event(google, event)
    assert copy["start"] == {"date": start.isoformat()}
    assert copy["end"] == {"date": (start + timedelta(days=3)).isoformat()}  # exclusive in Google
    gcal.patch(calendarId=CALENDAR, eventId=copy["id"], body={
        "start": {"date": (start + timedelta(days=1)).isoformat()},
        "end": {"date": (start + timedelta(days=5)).isoformat()}}).execute()
    gcal.insert(calendarId=CALENDAR, body={"summary": "Holiday", "start": {"date": start.isoformat()},
                                           "end": {"date": (start + timedelta(days=2)).isoformat()}}).execute()
    pull(app)
    db.session.refresh(event)
    assert (event.start_date, event.end_date) == (start + timedelta(days=1), start + timedelta(days=4))
    holiday = db.session.scalar(sa.select(GoogleEvent).where(GoogleEvent.summary == "Holiday"))
    assert holiday.all_day and (holiday.start_date, holiday.end_date) == (start, start + timedelta(days=1))


def test_event_in_another_time_zone_keeps_its_instant(connect, user, google, gcal, app):
    connect()
    gcal.insert(calendarId=CALENDAR, body={
        "summary": "NY call", "start": {"dateTime": "2027-01-15T09:00:00", "timeZone": "America/New_York"},
        "end": {"dateTime": "2027-01-15T10:00:00-05:00"}}).execute()
    pull(app)
    row = db.session.scalar(sa.select(GoogleEvent).where(GoogleEvent.summary == "NY call"))
    assert (row.start_at, row.end_at) == (datetime(2027, 1, 15, 14, 0), datetime(2027, 1, 15, 15, 0))


def test_fifty_cycles_without_duplicates_loops_or_lost_edits(connect, user, google, gcal, app):
    task, event = make_items(user, tasks=1, events=1)
    connect()
    for cycle in range(50):
        task.title = f"portal {cycle}"
        db.session.commit()
        run_jobs(app)
        gcal.patch(calendarId=CALENDAR, eventId=link_for(event).google_event_id,
                   body={"summary": f"google {cycle}"}).execute()
        pull(app)
        db.session.expire_all()
        assert event.title == f"google {cycle}"
        assert google_event(google, task)["summary"] == f"portal {cycle}"
    assert len(live_events(google)) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EventLink)) == 2
    google.reset_counters()
    for _ in range(5):  # nothing changes: only the incremental list requests, no writes, no jobs left
        pull(app)
    counters = google.counters()
    assert _writes(counters) == 0 and counters["total"] == 5, counters
    assert run_jobs(app) == 0


def test_expired_sync_token_resyncs_fully_without_duplicates(connect, user, google, gcal, app):
    make_items(user, tasks=2, events=2)
    connect()
    gcal.insert(calendarId=CALENDAR, body={"summary": "Native", "start": {"date": "2027-02-01"},
                                           "end": {"date": "2027-02-02"}}).execute()
    pull(app)
    before = (db.session.scalar(sa.select(sa.func.count()).select_from(GoogleEvent)),
              db.session.scalar(sa.select(sa.func.count()).select_from(EventLink)))
    google.expire_sync_tokens()
    pull(app)
    run = db.session.scalar(sa.select(SyncRun).order_by(SyncRun.id.desc()))
    assert (run.kind, run.status) == ("full_resync", "succeeded")
    after = (db.session.scalar(sa.select(sa.func.count()).select_from(GoogleEvent)),
             db.session.scalar(sa.select(sa.func.count()).select_from(EventLink)))
    assert before == after == (1, 4)
    assert len(live_events(google)) == 5


def test_revoked_access_asks_to_reconnect_and_stops_jobs(connect, user, google, app, login_as):
    make_items(user, tasks=1)
    connection = connect()
    google.revoke_user_tokens("alex@example.com")
    pull(app)
    db.session.refresh(connection)
    assert connection.status is ConnectionStatus.RECONNECT
    page = login_as(user).get("/integrations/").get_data(as_text=True)
    assert "revoked or has expired" in page and "Reconnect" in page
    runs = db.session.scalar(sa.select(sa.func.count()).select_from(SyncRun))
    pull(app)
    task = db.session.scalar(sa.select(Task))
    task.title = "edited"
    db.session.commit()
    run_jobs(app)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SyncRun)) == runs  # no retry loop


def test_one_way_connection_never_pulls(connect, user, google, gcal, app):
    (task,) = make_items(user, tasks=1)
    connect(kind="one-way")
    gcal.patch(calendarId=CALENDAR, eventId=link_for(task).google_event_id, body={"summary": "x"}).execute()
    google.reset_counters()
    pull(app)
    assert db.session.get(Task, task.id).title == "Task 0"
    assert google.counters()["total"] == 0


def test_rate_limits_are_retried_with_backoff(connect, user, google, app):
    make_items(user, tasks=3)
    google.add_fault(status=429, count=2, retry_after=0)
    connection = connect()
    assert len(live_events(google)) == 3
    assert connection.problem is None


def test_rerun_after_a_crash_before_links_were_saved_creates_no_duplicates(connect, user, google, app):
    make_items(user, tasks=3, appointments=2)
    connection = connect()
    db.session.execute(sa.delete(EventLink))  # as if the worker died after Google's writes
    db.session.commit()
    from app.models import PendingPush, RunKind
    from app.sync.engine import request_run
    from jobs.sync import submit

    for item in db.session.scalars(sa.select(Task)):
        db.session.add(PendingPush(connection_id=connection.id, item_type="task", item_id=item.id))
    db.session.commit()
    submit(request_run(connection, RunKind.SYNC))
    run_jobs(app)
    assert len(live_events(google)) == 5
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EventLink)) >= 3


def test_a_google_edit_of_an_event_whose_link_was_never_saved_still_reaches_its_item(connect, user, google, gcal,
                                                                                     app):
    """The worker died after Google's insert and before the link was saved: the event's id, the one its item
    always gets, still ties it to the item (a copy under another id does not: test_item_isolation)."""
    (task,) = make_items(user, tasks=1)
    connect()
    event = google_event(google, task)
    db.session.execute(sa.delete(EventLink))
    db.session.commit()
    gcal.patch(calendarId=CALENDAR, eventId=event["id"], body={"summary": "Edited in Google"}).execute()
    pull(app)
    assert db.session.get(Task, task.id).title == "Edited in Google"
    assert link_for(task).google_event_id == event["id"]
    assert len(live_events(google)) == 1


def test_short_lived_access_tokens_are_refreshed_and_kept(connect, user, google, app):
    google.set_token_lifetime(60)  # under google-auth's refresh margin: every job refreshes first
    (task,) = make_items(user, tasks=1)
    connection = connect()
    first_token = connection.access_token_enc
    task.title = "after refresh"
    db.session.commit()
    run_jobs(app)
    db.session.refresh(connection)
    assert connection.access_token_enc != first_token and connection.status is ConnectionStatus.ACTIVE
    assert google_event(google, task)["summary"] == "after refresh"


def test_edits_made_while_revoked_reach_google_after_reconnecting(connect, user, google, app, login_as):
    from tests.google_flow import sign_in_with_google

    (task,) = make_items(user, tasks=1)
    connection = connect()
    google.revoke_user_tokens("alex@example.com")
    pull(app)
    db.session.refresh(connection)
    assert connection.status is ConnectionStatus.RECONNECT
    task.title = "edited while disconnected"
    db.session.commit()
    run_jobs(app)  # nothing can sync yet
    sign_in_with_google(login_as(user))  # "Reconnect"
    run_jobs(app)
    db.session.refresh(connection)
    assert connection.status is ConnectionStatus.ACTIVE and connection.channel_id
    assert google_event(google, task)["summary"] == "edited while disconnected"


def test_an_edit_made_while_redis_is_down_is_pushed_by_the_next_sweep(connect, user, google, app):
    (task,) = make_items(user, tasks=1)
    connect()
    redis_url = app.config["REDIS_URL"]
    from redis import Redis

    app.extensions["redis"] = Redis.from_url("redis://127.0.0.1:1/0")  # nothing listens there
    task.title = "saved while Redis was down"
    db.session.commit()  # the edit is saved; only the job could not be queued
    app.extensions["redis"] = Redis.from_url(redis_url)
    pull(app)  # the cron sweep finds the waiting outbox row
    assert google_event(google, task)["summary"] == "saved while Redis was down"


def test_google_delete_after_a_queued_portal_edit_wins(connect, user, google, gcal, app):
    (task,) = make_items(user, tasks=1)
    connect(kind="one-way")
    task.title += " (edited)"
    db.session.commit()  # its push is queued
    time.sleep(0.01)
    gcal.delete(calendarId=CALENDAR, eventId=link_for(task).google_event_id).execute()  # later
    run_jobs(app)
    db.session.expire_all()
    assert link_for(task) is None and task.deleted_at is not None  # the item only this user had: trash
    assert live_events(google) == []


def test_portal_edit_after_a_google_delete_puts_the_event_back(connect, user, google, gcal, app):
    (task,) = make_items(user, tasks=1)
    connect(kind="one-way")
    gcal.delete(calendarId=CALENDAR, eventId=link_for(task).google_event_id).execute()
    time.sleep(0.01)
    task.title += " (edited later)"
    db.session.commit()
    run_jobs(app)
    assert [e["summary"] for e in live_events(google)] == [task.title]  # the later change wins
    history = db.session.scalars(sa.select(SyncHistory).where(SyncHistory.item_id == task.id)).all()
    assert [(h.action, h.detail["lost"]) for h in history] == [("conflict_portal_won", "deleted")]


def test_a_change_google_keeps_refusing_stays_queued_for_the_next_sweep(connect, user, google, app):
    from app.models import PendingPush

    (task,) = make_items(user, tasks=1)
    connect()
    google.add_fault(status=503, count=20, match="patch")  # more than the client's retries
    task.title = "pushed on the second sweep"
    db.session.commit()
    run_jobs(app)
    run = db.session.scalar(sa.select(SyncRun).order_by(SyncRun.id.desc()))
    assert run.failed == 1 and db.session.scalar(sa.select(sa.func.count()).select_from(PendingPush)) == 1
    google.clear_faults()
    pull(app)  # the cron sweep within the backoff: the row waits
    assert google_event(google, task)["summary"] != "pushed on the second sweep"
    db.session.execute(sa.update(PendingPush).values(not_before=utcnow()))  # the backoff is over
    db.session.commit()
    pull(app)  # the next cron sweep
    assert google_event(google, task)["summary"] == "pushed on the second sweep"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingPush)) == 0
