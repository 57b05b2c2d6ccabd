"""Google's limits: the request budget paces every call, use limits pause writes and resume by themselves,
a refused watch falls back to polling, and Push Existing Data goes in daily instalments within a window."""
import time
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from rq.job import Job

from app.extensions import db
from app.integrations.words import run_words
from app.models import CalendarConnection, Event, EventLink, PendingPush, SyncRun, Task, utcnow
from app.queues import all_queues, get_redis
from tests.conftest import post_form, run_jobs
from tests.google_flow import sign_in_with_google
from tests.sync.conftest import CALENDAR, live_events, pull
from testsupport.factories import make_items

PAUSED = "Google has limited changes to this calendar for a few hours; we will continue at "


def lower_quota(app, google, per_window: int, window_seconds: float) -> None:
    """Google (the emulator) and our budget both count `per_window` calls per user in a shrunken minute."""
    google.set_quota(per_window, window_seconds=window_seconds)
    app.config.update(GOOGLE_QUOTA_PER_USER_PER_MINUTE=per_window, GOOGLE_QUOTA_WINDOW_SECONDS=window_seconds,
                      GOOGLE_QUOTA_MARGIN_SECONDS=0.3)


def run_scheduled_jobs(app, func: str) -> list:
    """What the RQ scheduler does once a delayed job is due: move it to the queue; then a worker runs it.

    Returns when each of those jobs was due (naive UTC)."""
    due = []
    for queue in all_queues():
        registry = queue.scheduled_job_registry
        jobs = [job for job in Job.fetch_many(registry.get_job_ids(), connection=get_redis())
                if job and job.func_name == func]
        due += [registry.get_scheduled_time(job).replace(tzinfo=None) for job in jobs]
        for job in jobs:
            registry.remove(job)
            queue.enqueue_job(job)
    run_jobs(app)
    return due


def card(login_as, user) -> str:
    return login_as(user).get("/integrations/").get_data(as_text=True).replace("&#39;", "'")


def test_pacing_under_a_lowered_quota_draws_no_rate_limit_answer(connect, user, google, app):
    lower_quota(app, google, per_window=20, window_seconds=2)
    make_items(user, tasks=25, events=20)
    connection = connect()  # sign-in, 45 inserts in batches of at most 20, watch, full pull
    assert len(live_events(google)) == 45
    counters = google.counters()
    assert counters["rate_limited"] == 0, counters
    assert counters["batch_requests"] >= 3  # a batch never carries more calls than one window holds
    assert connection.problem is None


def test_the_request_budget_is_shared_by_workers_and_counts_the_user_and_the_project(app):
    from app.google import RateLimited
    from app.google.budget import Limits, RequestBudget

    limits = Limits(per_user=4, per_project=6, window_seconds=1)
    namespace = app.config["REDIS_NAMESPACE"]

    def budget(google_user: str) -> RequestBudget:
        return RequestBudget(get_redis(), f"{namespace}:user:{google_user}", f"{namespace}:project", limits, 0)

    alex_in_one_worker, alex_in_another, sam = budget("alex"), budget("alex"), budget("sam")
    started = time.monotonic()
    alex_in_one_worker.take(3)
    sam.take(2)  # 5 of the project's 6
    assert time.monotonic() - started < 0.5
    with pytest.raises(RateLimited):  # Alex's window: 3 + 2 > 4, whichever worker asks
        alex_in_another.take(2, max_wait_seconds=0.2)
    with pytest.raises(RateLimited):  # the project's window: 5 + 2 > 6
        sam.take(2, max_wait_seconds=0.2)
    alex_in_another.take(1)  # Alex 4 of 4, the project 6 of 6
    waiting = time.monotonic()
    sam.take(1)  # waits until the first grant leaves the window
    assert time.monotonic() - waiting >= 0.8


def test_a_rate_limit_answer_that_still_arrives_is_waited_out_not_an_item_failure(connect, user, google, app):
    make_items(user, tasks=5)
    google.add_fault(status=403, reason="userRateLimitExceeded", match="events.insert", count=3, retry_after=0)
    google.add_fault(status=429, match="events.list", count=1, retry_after=0)
    connection = connect()
    run = db.session.scalar(sa.select(SyncRun).where(SyncRun.kind == "push_existing"))
    assert (run.status, run.created, run.failed) == ("succeeded", 5, 0), run.errors
    assert len(live_events(google)) == 5 and connection.problem is None


def test_a_use_limit_pauses_writes_keeps_the_items_and_resumes_by_itself(connect, user, google, app, login_as):
    from jobs.periodic import sweep_connections

    connection = connect()
    google.add_fault(status=403, reason="quotaExceeded", match="events.insert", fraction=1.0)
    (task,) = make_items(user, tasks=1)
    run_jobs(app)
    run = db.session.scalars(sa.select(SyncRun).order_by(SyncRun.id.desc())).first()
    db.session.refresh(connection)
    assert run.kind == "push" and run.failed == 0 and run_words(run).startswith(PAUSED)
    assert connection.writes_paused_until > utcnow() + timedelta(hours=2, minutes=59)
    assert db.session.scalar(sa.select(PendingPush.item_id)) == task.id  # nothing lost
    local = connection.writes_paused_until.replace(tzinfo=UTC).astimezone(ZoneInfo(user.timezone)).strftime("%H:%M")
    page = card(login_as, user)
    assert 'id="two-way-paused"' in page and PAUSED + local + "." in page
    calls = google.counters()["methods"].get("calendar.events.insert", 0)
    sweep_connections()  # the safety net schedules no push while paused
    run_jobs(app)
    assert google.counters()["methods"].get("calendar.events.insert", 0) == calls

    google.clear_faults()
    connection.writes_paused_until = utcnow() - timedelta(seconds=1)  # the hours have passed
    db.session.commit()
    (due,) = run_scheduled_jobs(app, "jobs.sync.resume_run")  # its work again: the outbox's push
    assert abs((due - run.finished_at).total_seconds() - 3 * 3600) < 60
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingPush)) == 0
    assert any(e["summary"] == task.title for e in live_events(google))
    assert 'id="two-way-paused"' not in card(login_as, user)


def test_a_refused_watch_falls_back_to_polling_and_sync_now_still_succeeds(connect, user, google, gcal, app,
                                                                         login_as):
    from jobs.periodic import renew_channel

    app.config["WEBHOOK_BASE_URL"] = "http://portal.example.test"  # Google refuses non-HTTPS addresses
    (task,) = make_items(user, tasks=1)
    connection = connect()
    assert connection.channel_id is None
    page = card(login_as, user)
    assert "Live updates are off: Google only sends them to a secure (https) address." in page
    assert "Changes made in Google arrive every few minutes instead." in page

    post_form(login_as(user), "/integrations/two-way/sync", {}, page="/integrations/")
    run_jobs(app)
    run = db.session.scalars(sa.select(SyncRun).order_by(SyncRun.id.desc())).first()
    assert (run.kind, run.status) == ("sync", "succeeded"), run.outcome
    link = db.session.scalar(sa.select(EventLink))
    gcal.patch(calendarId=CALENDAR, eventId=link.google_event_id, body={"summary": "Edited in Google"}).execute()
    pull(app)  # polling: the periodic pull brings Google's change
    db.session.refresh(task)
    assert task.title == "Edited in Google"

    app.config["WEBHOOK_BASE_URL"] = "http://127.0.0.1:1"  # an address Google accepts (locally)
    renew_channel(connection.id)  # the renewal the sweep plans after WATCH_RETRY_HOURS tries again
    db.session.refresh(connection)
    assert connection.channel_id and connection.live_updates_problem is None
    assert "Live updates are off" not in card(login_as, user)


def test_a_move_stopped_by_a_use_limit_goes_on_by_itself_when_the_limit_has_passed(connect, user, google, app,
                                                                                   login_as):
    make_items(user, tasks=3)
    connection = connect()
    google.add_fault(status=403, reason="quotaExceeded", match="events.insert", fraction=1.0)
    post_form(login_as(user), "/integrations/two-way/calendar",
              {"calendar_id": "__new__", "new_calendar_name": "Moved"}, page="/integrations/?change=two-way")
    run_jobs(app)
    stopped = db.session.scalar(sa.select(SyncRun).where(SyncRun.kind == "change_calendar"))
    db.session.refresh(connection)
    assert stopped.status == "failed" and run_words(stopped).startswith(PAUSED)
    assert connection.calendar_summary == "Moved" and live_events(google, connection.calendar_id) == []

    google.clear_faults()
    connection.writes_paused_until = utcnow() - timedelta(seconds=1)  # the hours have passed
    db.session.commit()
    (due,) = run_scheduled_jobs(app, "jobs.sync.resume_run")
    assert abs((due - stopped.finished_at).total_seconds() - 3 * 3600) < 60
    again = db.session.scalars(sa.select(SyncRun).where(SyncRun.kind == "change_calendar")
                               .order_by(SyncRun.id.desc())).first()
    assert again.id != stopped.id and again.status == "succeeded" and again.calendar_summary == "Moved"
    assert len(live_events(google, connection.calendar_id)) == 3 and live_events(google) == []


def test_push_existing_data_goes_in_daily_instalments_above_the_ceiling(google, user, login_as, app):
    app.config["PUSH_DAILY_CEILING"] = 5
    make_items(user, tasks=7, events=5)
    client = login_as(user)
    sign_in_with_google(client)
    post_form(client, "/integrations/two-way/push", {"calendar_id": CALENDAR}, page="/integrations/")
    run_jobs(app)
    first = db.session.scalar(sa.select(SyncRun).where(SyncRun.kind == "push_existing"))
    assert (first.status, first.created, first.total) == ("succeeded", 5, 12)
    assert run_words(first).startswith("5 of 12 items pushed.")
    assert "the other 7 follow in daily instalments" in run_words(first)
    assert len(live_events(google)) == 5
    for created in (10, 12):  # each following day (a new day's count), the next instalment
        get_redis().delete(*get_redis().keys(f"{app.config['REDIS_NAMESPACE']}:google-creations:*"))
        (due,) = run_scheduled_jobs(app, "jobs.sync.resume_run")
        assert due.date() == utcnow().date() + timedelta(days=1)
        assert len(live_events(google)) == created
    last = db.session.scalars(sa.select(SyncRun).where(SyncRun.kind == "push_existing")
                              .order_by(SyncRun.id.desc())).first()
    assert run_words(last).startswith("Synchronization complete")
    assert db.session.scalar(sa.select(CalendarConnection)).can_sync


def test_the_confirmation_counts_items_and_a_window_limits_the_push(google, user, login_as, app):
    long_ago = utcnow() - timedelta(days=300)
    db.session.add_all([
        Event(company_id=user.company_id, title="Old", start_at=long_ago, end_at=long_ago + timedelta(hours=1),
              timezone="Europe/London", attendees=[user]),
        Task(company_id=user.company_id, title="Soon", due_date=utcnow().date(), assignees=[user])])
    db.session.commit()
    make_items(user, tasks=2)
    client = login_as(user)
    sign_in_with_google(client)
    page = card(login_as, user)
    assert "4 items: all my tasks, events and appointments" in page
    assert "3 items from 6 months ago onward" in page
    post_form(client, "/integrations/two-way/push", {"calendar_id": CALENDAR, "since": "6"}, page="/integrations/")
    run_jobs(app)
    assert sorted(e["summary"] for e in live_events(google)) == ["Soon", "Task 0", "Task 1"]
    assert post_form(client, "/integrations/two-way/push", {"calendar_id": CALENDAR, "since": "7"},
                     page="/integrations/").status_code == 400
