"""Fleet scale: push first and poll rarely, sweeps that fan out per connection, interactive work first."""
import random
import re
import time
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa
from rq.job import Job

from app.extensions import db
from app.integrations.words import run_words
from app.models import (
    CalendarConnection,
    ConnectionKind,
    ConnectionStatus,
    EventLink,
    PendingPush,
    Role,
    RunKind,
    RunStatus,
    SyncRun,
    utcnow,
)
from app.queues import BULK, PERIODIC, get_queue, get_redis
from tests.conftest import post_form, run_jobs
from tests.google_flow import sign_in_with_google
from testsupport.factories import make_items

from .conftest import CALENDAR, pull, run_one_job


def scheduled_jobs(queue_name: str = PERIODIC) -> Counter:
    """(function, connection id) → how many jobs wait in the queue's scheduled registry."""
    registry = get_queue(queue_name).scheduled_job_registry
    jobs = Job.fetch_many(registry.get_job_ids(), connection=get_redis())
    return Counter((job.func_name.rsplit(".", 1)[-1], job.args[0]) for job in jobs)


def fleet_of(users, **channels) -> dict[str, CalendarConnection]:
    """Active 2-way connections (no Google behind them: nothing here calls Google), one per role named."""
    now = utcnow()
    made = {}
    for name, channel in channels.items():
        user = users[Role(name)]
        connection = CalendarConnection(company_id=user.company_id, user_id=user.id, kind=ConnectionKind.TWO_WAY,
                                        status=ConnectionStatus.ACTIVE, calendar_id=f"{name}@example.com")
        if channel in ("trusted", "missed"):
            connection.channel_id, connection.channel_expires_at = f"channel-{name}", now + timedelta(days=6)
        if channel == "missed":
            connection.channel_missed_at = now
        db.session.add(connection)
        made[name] = connection
    db.session.commit()
    return made


def test_a_trusted_channel_is_polled_every_few_hours_the_others_every_few_minutes(app, users, monkeypatch):
    from app.sync import polling
    from jobs.periodic import SWEEP_SECONDS, sweep_connections

    monkeypatch.setattr(polling, "BATCH", 2)  # the sweep's batches (keyset by id) cover every connection
    fleet = fleet_of(users, admin="trusted", manager="trusted", staff="trusted", client="none", prospect="missed")
    start = utcnow()
    for step in range(24 * 3600 // SWEEP_SECONDS):  # one simulated day of sweeps
        sweep_connections(start + timedelta(seconds=step * SWEEP_SECONDS))
    polls = {name: scheduled_jobs()[("poll_connection", c.id)] for name, c in fleet.items()}
    hours, minutes = app.config["POLL_HEALTHY_HOURS"], app.config["POLL_UNHEALTHY_MINUTES"]
    for name in ("admin", "manager", "staff"):
        assert 24 / hours * 0.8 - 1 <= polls[name] <= 24 / hours * 1.2 + 1, polls
    for name in ("client", "prospect"):
        assert 24 * 60 / minutes * 0.8 <= polls[name] <= 24 * 60 / minutes * 1.2 + 1, polls
    times = {c.id: c.next_poll_at for c in fleet.values()}
    assert len(set(times.values())) == len(times)  # jittered: no two connections poll together


def test_after_an_outage_overdue_polls_spread_over_their_interval_instead_of_running_at_once(app, users):
    from jobs.periodic import sweep_connections

    random.seed(7)
    fleet = fleet_of(users, admin="trusted", manager="trusted", staff="trusted", client="trusted", prospect="trusted")
    now = utcnow()
    for connection in fleet.values():
        connection.next_poll_at = now - timedelta(hours=3)  # no sweep ran for hours
    db.session.commit()
    sweep_connections(now)
    interval = timedelta(hours=app.config["POLL_HEALTHY_HOURS"])
    assert sum(scheduled_jobs().values()) <= 1  # not five polls in this minute
    assert all(now <= c.next_poll_at <= now + interval * 1.25 for c in fleet.values())


def test_renewals_run_one_job_per_due_connection_and_a_refused_channel_is_asked_again_hours_later(
        connect, google, app):
    from jobs.periodic import renew_channel, sweep_connections

    connection = connect()
    assert connection.next_watch_at > utcnow() + timedelta(days=6)  # planned from the fresh channel's expiry
    assert scheduled_jobs()[("renew_channel", connection.id)] == 0
    connection.next_watch_at = utcnow()
    db.session.commit()
    sweep_connections()
    assert scheduled_jobs()[("renew_channel", connection.id)] == 1
    connection.channel_missed_at = utcnow()  # the channel is not trusted: a fresh one is needed
    db.session.commit()
    google.add_fault(status=503, count=50, match="watch")  # more than the client's retries
    renew_channel(connection.id)
    db.session.refresh(connection)
    retry = timedelta(hours=app.config["WATCH_RETRY_HOURS"])
    assert utcnow() + retry * 0.75 < connection.next_watch_at < utcnow() + retry * 1.25
    old = connection.channel_id
    google.clear_faults()
    renew_channel(connection.id)
    db.session.refresh(connection)
    assert connection.channel_id != old and connection.channel_missed_at is None


def test_a_poll_that_finds_changes_no_notification_announced_distrusts_the_channel_until_one_arrives(
        connect, gcal, app):
    from jobs.periodic import poll_connection

    connection = connect()  # WEBHOOK_BASE_URL reaches nobody here: Google's notifications are lost
    poll_connection(connection.id)
    db.session.refresh(connection)
    rare = timedelta(hours=app.config["POLL_HEALTHY_HOURS"] * 0.75)
    assert connection.channel_missed_at is None and connection.next_poll_at > utcnow() + rare
    gcal.insert(calendarId=CALENDAR, body={"summary": "Made in Google", "start": {"date": "2030-01-02"},
                                           "end": {"date": "2030-01-03"}}).execute()
    poll_connection(connection.id)
    db.session.refresh(connection)
    often = timedelta(minutes=app.config["POLL_UNHEALTHY_MINUTES"] * 1.25)
    assert connection.channel_missed_at is not None and connection.next_poll_at < utcnow() + often
    assert connection.next_watch_at <= utcnow()  # renewed at the next sweep
    headers = {"X-Goog-Channel-ID": connection.channel_id, "X-Goog-Resource-State": "exists",
               "X-Goog-Channel-Token": connection.channel_token}
    assert app.test_client().post("/broker/google/notifications", headers=headers).status_code == 204
    db.session.refresh(connection)
    assert connection.channel_missed_at is None and connection.last_notified_at is not None
    run_jobs(app)  # the pull the notification asked for finds nothing new
    poll_connection(connection.id)
    db.session.refresh(connection)
    assert connection.next_poll_at > utcnow() + rare


def test_an_edit_is_pushed_between_two_slices_of_another_users_push_existing_data(
        sliced, users, user, login_as, google, app):
    from jobs.sync import recover_runs

    staff = users[Role.STAFF]
    (edited,) = make_items(staff, tasks=1)
    bulk = make_items(user, tasks=12)
    staff_client = login_as(staff)
    sign_in_with_google(staff_client, email="sam@example.com")
    post_form(staff_client, "/integrations/two-way/push", {"calendar_id": "sam@example.com"}, page="/integrations/")
    run_jobs(app)  # the staff member's calendar is in sync
    client = login_as(user)
    sign_in_with_google(client)
    post_form(client, "/integrations/two-way/push", {"calendar_id": CALENDAR}, page="/integrations/")
    run = db.session.scalar(sa.select(SyncRun).where(SyncRun.user_id == user.id,
                                                     SyncRun.kind == RunKind.PUSH_EXISTING).order_by(SyncRun.id.desc()))
    assert run_one_job() == "start_run"
    db.session.refresh(run)
    assert (run.status, run.done, run.total) == (RunStatus.RUNNING, 4, len(bulk))
    assert get_queue(BULK).count == 1  # its next slice waits at the end of the bulk queue
    assert recover_runs() == 0  # between slices no worker holds it, yet it has not lost one
    edited.title = "Edited while a big push runs"
    db.session.commit()
    assert run_one_job() == "push_changes"  # before the bulk slice queued earlier
    assert google.events("sam@example.com")[0]["summary"] == "Edited while a big push runs"
    run_jobs(app)
    db.session.refresh(run)
    assert run.status == RunStatus.SUCCEEDED and run.done == run.total == len(bulk) and run.created == run.total
    assert sum(e.get("status") != "cancelled" for e in google.events(CALENDAR)) == len(bulk)


def test_the_sweep_forgets_runs_that_ended_long_ago_and_keeps_the_rest(app, connect):
    from jobs.periodic import sweep_connections

    connection = connect()
    kept = db.session.scalars(sa.select(SyncRun.id)).all()  # the connection's first push and pull: today
    days = timedelta(days=app.config["RUN_HISTORY_DAYS"])
    old, recent, unfinished = (SyncRun(company_id=connection.company_id, user_id=connection.user_id,
                                       connection_id=connection.id, kind=RunKind.PULL, status=status,
                                       finished_at=finished) for status, finished in (
        (RunStatus.SUCCEEDED, utcnow() - days - timedelta(hours=1)),
        (RunStatus.FAILED, utcnow() - days + timedelta(hours=1)), (RunStatus.RUNNING, None)))
    db.session.add_all([old, recent, unfinished])
    db.session.commit()
    old_id, keep = old.id, {*kept, recent.id, unfinished.id}
    sweep_connections()
    left = set(db.session.scalars(sa.select(SyncRun.id)))
    assert left == keep and old_id not in left


def test_items_google_refuses_for_now_in_one_slice_stay_queued_after_the_last(sliced, user, login_as, google, app):
    make_items(user, tasks=12)
    client = login_as(user)
    sign_in_with_google(client)
    post_form(client, "/integrations/two-way/push", {"calendar_id": CALENDAR}, page="/integrations/")
    # The first chunk's 3 inserts fail 5 rounds: the batch of 3, then one call a round (a probe: the other two
    # are taken as failed alike); fewer failures in a row than open the outage breaker
    google.add_fault(status=503, count=3 + 4, match="insert")
    assert run_one_job() == "start_run"
    google.clear_faults()
    run_jobs(app)  # the other two slices
    run = db.session.scalar(sa.select(SyncRun).where(SyncRun.kind == RunKind.PUSH_EXISTING))
    assert (run.status, run.created, run.failed) == (RunStatus.SUCCEEDED, 9, 3)
    waiting = db.session.scalars(sa.select(PendingPush)).all()
    assert len(waiting) == 3 and all(row.not_before > utcnow() for row in waiting)  # kept, with their backoff
    db.session.execute(sa.update(PendingPush).values(not_before=utcnow()))  # the backoff is over
    db.session.commit()
    pull(app)  # the sweep pushes what is due
    assert sum(e.get("status") != "cancelled" for e in google.events(CALENDAR)) == 12


def test_a_sliced_push_stops_at_the_daily_ceiling_and_says_when_it_goes_on(sliced, user, login_as, google, app):
    app.config["PUSH_DAILY_CEILING"] = 5
    make_items(user, tasks=12)
    client = login_as(user)
    sign_in_with_google(client)
    post_form(client, "/integrations/two-way/push", {"calendar_id": CALENDAR}, page="/integrations/")
    assert run_one_job() == "start_run"  # 4 items, then the next slice
    run_jobs(app)  # 1 more: the day's ceiling
    run = db.session.scalar(sa.select(SyncRun).where(SyncRun.kind == RunKind.PUSH_EXISTING))
    assert (run.status, run.created) == (RunStatus.SUCCEEDED, 5)
    words = run_words(run)
    assert words.startswith("5 of 12 items pushed.") and "the other 7 follow in daily instalments" in words
    assert scheduled_jobs(BULK)[("resume_run", run.id)] == 1  # the rest, as asked for


def test_a_calendar_move_beyond_the_daily_ceiling_goes_on_in_instalments(user, login_as, google, app):
    make_items(user, tasks=7)
    client = login_as(user)
    sign_in_with_google(client)
    post_form(client, "/integrations/two-way/push", {"calendar_id": CALENDAR}, page="/integrations/")
    run_jobs(app)
    app.config["PUSH_DAILY_CEILING"] = 10  # 7 events created today already: room for 3 more
    post_form(client, "/integrations/two-way/calendar", {"calendar_id": "__new__", "new_calendar_name": "Moved"},
              page="/integrations/?change=two-way")
    assert run_one_job() == "start_run"  # on the bulk queue, like Push Existing Data
    run = db.session.scalar(sa.select(SyncRun).where(SyncRun.kind == RunKind.CHANGE_CALENDAR))
    assert (run.status, run.deleted, run.created) == (RunStatus.SUCCEEDED, 7, 3)
    assert run_words(run).startswith("Moved to Moved: 7 removed from the old calendar, 3 in the new one.")
    assert "the other 4 follow in daily instalments" in run_words(run)
    assert scheduled_jobs(BULK)[("resume_run", run.id)] == 1  # the rest, as asked for


def test_a_slice_waits_for_googles_quota_in_the_queue_not_in_a_worker(user, login_as, google, app):
    """Google's per-minute quota is in use: the slice gives its worker back and goes on when there is room."""
    google.set_quota(20, window_seconds=4)  # Google (the emulator) and our budget: 20 calls per user in 4 s
    app.config.update(GOOGLE_QUOTA_PER_USER_PER_MINUTE=20, GOOGLE_QUOTA_WINDOW_SECONDS=4,
                      GOOGLE_QUOTA_MARGIN_SECONDS=0.3)
    make_items(user, tasks=30)
    client = login_as(user)
    sign_in_with_google(client)
    post_form(client, "/integrations/two-way/push", {"calendar_id": CALENDAR}, page="/integrations/")
    began = time.monotonic()
    run_jobs(app)
    assert time.monotonic() - began < 3  # the worker was not kept waiting for the quota
    run = db.session.scalar(sa.select(SyncRun).where(SyncRun.kind == RunKind.PUSH_EXISTING))
    assert run.status == RunStatus.RUNNING and 0 < run.done < 30
    registry = get_queue(BULK).scheduled_job_registry
    (job_id,) = registry.get_job_ids()
    assert Job.fetch(job_id, connection=get_redis()).func_name == "jobs.sync.continue_run"
    assert registry.get_scheduled_time(job_id).timestamp() - time.time() > 2  # when the quota has room again
    run_continuations(app, run)
    assert (run.status, run.created) == (RunStatus.SUCCEEDED, 30)
    assert google.counters()["rate_limited"] == 0


def run_continuations(app, run: SyncRun, when_due: bool = True) -> None:
    """The scheduler's part, until the run ends: each of its continuations when it is due (or at once)."""
    registry = get_queue(BULK).scheduled_job_registry
    while not run.finished:
        for job_id in registry.get_job_ids():
            if when_due:
                time.sleep(max(0.0, registry.get_scheduled_time(job_id).timestamp() - time.time()))
            registry.remove(job_id)
            get_queue(BULK).enqueue_job(Job.fetch(job_id, connection=get_redis()))
        run_jobs(app)
        db.session.refresh(run)


# A push's 61st insert, in its second batch of 50; a move's fourth delete, after a chunk of three in the same slice.
@pytest.mark.parametrize(("refused", "done_before"), [("insert", 50), ("delete", 3)])
def test_a_rate_limit_answer_google_still_gives_in_a_slice_is_waited_out_in_the_queue(
        request, user, login_as, google, app, refused, done_before):
    """Our budget keeps Google's quota, but another app on the same project can use it up: Google's "wait 30 s"
    is taken in the queue (the refused batch rolled back, the ones before it kept), not in a worker, and the
    run still ends exact."""
    if refused == "insert":
        bulk = make_items(user, tasks=120)  # slices of 500: one slice, if Google did not interrupt it
        client = login_as(user)
        sign_in_with_google(client)
        post_form(client, "/integrations/two-way/push", {"calendar_id": CALENDAR}, page="/integrations/")
        run = db.session.scalar(sa.select(SyncRun).where(SyncRun.kind == RunKind.PUSH_EXISTING))
        fault = {"match": "insert", "after": 60}
    else:
        request.getfixturevalue("sliced")
        bulk, run = moving(user, login_as, app)
        fourth = sa.select(EventLink.google_event_id).where(EventLink.item_id == bulk[3].id)
        fault = {"match": db.session.scalar(fourth)}  # its delete's address holds its id
    google.add_fault(status=429, count=1, retry_after=30, **fault)
    began = time.monotonic()
    run_jobs(app)
    assert time.monotonic() - began < 15  # not the 30 s Google asked for
    db.session.refresh(run)
    assert (run.status, run.done, run.failed) == (RunStatus.RUNNING, done_before, 0)
    registry = get_queue(BULK).scheduled_job_registry
    (job_id,) = registry.get_job_ids()
    assert registry.get_scheduled_time(job_id).timestamp() - time.time() > 20  # when Google said
    run_continuations(app, run, when_due=False)
    connection = db.session.get(CalendarConnection, run.connection_id)
    assert (run.status, run.failed, run.done) == (RunStatus.SUCCEEDED, 0, run.total)
    assert sorted(e["summary"] for e in live(google, connection.calendar_id)) == sorted(t.title for t in bulk)
    assert google.faults()[0]["hits"] == 1  # the answer did come


def test_a_slice_that_crosses_item_kinds_cuts_no_batch_short(user, login_as, google, app, monkeypatch):
    """Each kind ends with its one short batch; a slice's end falls between whole batches, so a push costs
    ⌈N/50⌉ per kind however the slices fall."""
    from app.sync import bulk

    monkeypatch.setattr(bulk, "SLICE_ITEMS", 100)
    make_items(user, tasks=70, events=100)  # the first slice: 70 tasks, then 30 events unless cut to 0
    client = login_as(user)
    sign_in_with_google(client)
    post_form(client, "/integrations/two-way/push", {"calendar_id": CALENDAR}, page="/integrations/")
    google.reset_counters()
    run_jobs(app)
    run = db.session.scalar(sa.select(SyncRun).where(SyncRun.kind == RunKind.PUSH_EXISTING))
    assert (run.status, run.created) == (RunStatus.SUCCEEDED, 170)
    assert google.counters()["batch_requests"] == 2 + 2  # not 50 + 20 tasks, 30 + 50 + 20 events


def test_the_users_own_edits_reach_google_between_the_slices_of_their_push_and_its_card_keeps_its_progress(
        sliced, user, login_as, google, app):
    bulk = make_items(user, tasks=12)
    client = login_as(user)
    sign_in_with_google(client)
    post_form(client, "/integrations/two-way/push", {"calendar_id": CALENDAR}, page="/integrations/")
    assert run_one_job() == "start_run"  # items 1–4, then the next slice waits on the bulk queue
    for n, task in enumerate(bulk[-3:]):  # not pushed yet: the edits' runs put them in Google first
        task.title = f"Edited during my own push {n}"
        db.session.commit()
        assert run_one_job() == "push_changes"
    titles = [e["summary"] for e in google.events(CALENDAR) if e.get("status") != "cancelled"]
    assert sorted(t for t in titles if t.startswith("Edited")) == [f"Edited during my own push {n}" for n in range(3)]
    for n in range(8):  # more runs after the push's than the page's recent history holds
        bulk[0].notes = f"Edit {n}"
        db.session.commit()
        assert run_one_job() == "push_changes"
    run = db.session.scalar(sa.select(SyncRun).where(SyncRun.kind == RunKind.PUSH_EXISTING))
    assert run.status == RunStatus.RUNNING
    page = client.get("/integrations/").get_data(as_text=True)
    assert 'id="sync-progress"' in page and f"/runs/{run.id}" in page  # the push's progress, not an edit's run
    run_jobs(app)
    db.session.refresh(run)
    assert run.status == RunStatus.SUCCEEDED and run.created == 12 - 3  # the edited three were already there
    assert sum(e.get("status") != "cancelled" for e in google.events(CALENDAR)) == 12  # no duplicates


def live(google, calendar: str) -> list[dict]:
    return [e for e in google.events(calendar) if e.get("status") != "cancelled"]


def moving(user, login_as, app, items: int = 12):
    """The user's items in their calendar, then a move to a new one asked for (its job waits on the bulk queue)."""
    bulk = make_items(user, tasks=items)
    client = login_as(user)
    sign_in_with_google(client)
    post_form(client, "/integrations/two-way/push", {"calendar_id": CALENDAR}, page="/integrations/")
    run_jobs(app)
    post_form(client, "/integrations/two-way/calendar", {"calendar_id": "__new__", "new_calendar_name": "Moved"},
              page="/integrations/?change=two-way")
    return bulk, db.session.scalar(sa.select(SyncRun).where(SyncRun.kind == RunKind.CHANGE_CALENDAR))


def test_a_calendar_move_runs_in_slices_and_other_users_edits_go_between_them(
        sliced, users, user, login_as, google, app):
    staff = users[Role.STAFF]
    (edited,) = make_items(staff, tasks=1)
    staff_client = login_as(staff)
    sign_in_with_google(staff_client, email="sam@example.com")
    post_form(staff_client, "/integrations/two-way/push", {"calendar_id": "sam@example.com"}, page="/integrations/")
    bulk, run = moving(user, login_as, app)
    assert run_one_job() == "start_run"
    db.session.refresh(run)
    assert (run.status, run.deleted) == (RunStatus.RUNNING, 4)  # the first slice: 4 copies removed
    assert len(live(google, CALENDAR)) == 8
    edited.title = "Edited while a big move runs"
    db.session.commit()
    assert run_one_job() == "push_changes"  # before the move's next slice
    assert live(google, "sam@example.com")[0]["summary"] == "Edited while a big move runs"
    run_jobs(app)
    db.session.refresh(run)
    assert (run.status, run.deleted, run.created) == (RunStatus.SUCCEEDED, 12, 12)
    assert run_words(run).startswith("Moved to Moved: 12 removed from the old calendar, 12 in the new one.")
    connection = db.session.get(CalendarConnection, run.connection_id)
    assert live(google, CALENDAR) == [] and len(live(google, connection.calendar_id)) == len(bulk)


def test_the_users_own_edit_waits_for_their_move_and_lands_in_the_new_calendar_only(
        sliced, user, login_as, google, app):
    bulk, run = moving(user, login_as, app)
    assert run_one_job() == "start_run"
    bulk[0].title = "Edited during my own move"  # its copy has already left the old calendar
    db.session.commit()
    assert run_one_job() == "push_changes"  # it waits for the move...
    assert len(live(google, CALENDAR)) == len(bulk) - 4  # ...rather than put a copy back into the old calendar
    run_jobs(app)
    connection = db.session.get(CalendarConnection, run.connection_id)
    assert live(google, CALENDAR) == []
    titles = [e["summary"] for e in live(google, connection.calendar_id)]
    assert len(titles) == len(bulk) and "Edited during my own move" in titles


@pytest.mark.parametrize("slices_before_death", [1, 4])  # dies while removing; dies while pushing
def test_a_move_whose_worker_died_is_resumed_to_the_same_calendar(
        sliced, user, login_as, google, app, slices_before_death):
    from jobs.sync import recover_runs

    bulk, run = moving(user, login_as, app)
    for _ in range(slices_before_death):
        run_one_job()
    get_queue(BULK).empty()  # its next slice is lost with the worker: the run is "running", nobody runs it
    get_redis().delete(*get_redis().keys("*run-continues*"))
    assert recover_runs() == 1
    db.session.refresh(run)
    assert run.status == RunStatus.INTERRUPTED
    run_jobs(app)
    resumed = db.session.scalar(sa.select(SyncRun).where(SyncRun.kind == RunKind.CHANGE_CALENDAR, SyncRun.id > run.id))
    assert resumed.status == RunStatus.SUCCEEDED and resumed.calendar_summary == "Moved"
    connection = db.session.get(CalendarConnection, run.connection_id)
    assert connection.calendar_summary == "Moved" and live(google, CALENDAR) == []
    assert sorted(e["summary"] for e in live(google, connection.calendar_id)) == sorted(t.title for t in bulk)


def test_a_move_whose_job_was_lost_before_it_started_is_queued_again_with_its_calendar(user, login_as, google, app):
    from jobs.recovery import STALE_QUEUED
    from jobs.sync import recover_runs

    bulk, run = moving(user, login_as, app, items=3)
    get_queue(BULK).empty()  # Redis lost the job (a restart without persistence)
    run.queued_at = utcnow() - STALE_QUEUED - timedelta(seconds=1)
    db.session.commit()
    recover_runs()
    run_jobs(app)
    db.session.refresh(run)
    connection = db.session.get(CalendarConnection, run.connection_id)
    assert run.status == RunStatus.SUCCEEDED and connection.calendar_summary == "Moved"
    assert len(live(google, connection.calendar_id)) == 3 and live(google, CALENDAR) == []


def test_delete_with_removal_runs_in_slices_then_deletes_the_connection(sliced, user, login_as, google, app):
    make_items(user, tasks=10)
    client = login_as(user)
    sign_in_with_google(client)
    post_form(client, "/integrations/two-way/push", {"calendar_id": CALENDAR}, page="/integrations/")
    run_jobs(app)
    post_form(client, "/integrations/two-way/delete", {"events": "remove"}, page="/integrations/")
    assert run_one_job() == "start_run"
    run = db.session.scalar(sa.select(SyncRun).where(SyncRun.kind == RunKind.REMOVE_EVENTS))
    assert (run.status, run.deleted) == (RunStatus.RUNNING, 4) and len(live(google, CALENDAR)) == 6
    assert db.session.get(CalendarConnection, run.connection_id) is not None  # not before the last copy is gone
    run_jobs(app)
    assert live(google, CALENDAR) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CalendarConnection)) == 0


def test_while_a_push_runs_its_card_offers_no_action_that_would_wait_behind_it(sliced, user, login_as, google, app):
    """Sync now, another push or a move would wait for hours behind the push: the card hides them (they are back
    at its end), and a request that comes anyway is told so and queued nowhere."""
    make_items(user, tasks=12)
    client = login_as(user)
    sign_in_with_google(client)
    post_form(client, "/integrations/two-way/push", {"calendar_id": CALENDAR}, page="/integrations/")
    assert run_one_job() == "start_run"
    page = client.get("/integrations/").get_data(as_text=True)
    assert re.search(r'class="[^"]*card-actions d-none" data-actions>', page)
    assert re.search(r'class="small text-muted mt-2 mb-0" id="two-way-actions-wait"', page)
    runs_before = db.session.scalar(sa.select(sa.func.count()).select_from(SyncRun))
    for url, fields in (("/integrations/two-way/sync", {}), ("/integrations/two-way/push", {"calendar_id": CALENDAR}),
                        ("/integrations/two-way/calendar", {"calendar_id": "__new__", "new_calendar_name": "X"})):
        response = post_form(client, url, fields, page="/integrations/", follow_redirects=True)
        assert "Your portal items are still being pushed to Google" in response.get_data(as_text=True), url
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SyncRun)) == runs_before
    run_jobs(app)
    page = client.get("/integrations/").get_data(as_text=True)
    assert re.search(r'class="[^"]*card-actions" data-actions>', page) and 'id="two-way-sync-now"' in page


def test_delete_with_removal_during_a_push_stops_the_push_instead_of_waiting_for_it(
        sliced, user, login_as, google, app):
    make_items(user, tasks=12)
    client = login_as(user)
    sign_in_with_google(client)
    post_form(client, "/integrations/two-way/push", {"calendar_id": CALENDAR}, page="/integrations/")
    assert run_one_job() == "start_run"  # 4 events in Google, the rest to come in slices
    post_form(client, "/integrations/two-way/delete", {"events": "remove"}, page="/integrations/")
    run_jobs(app)
    push_run = db.session.scalar(sa.select(SyncRun).where(SyncRun.kind == RunKind.PUSH_EXISTING))
    assert push_run.status == RunStatus.CANCELLED and push_run.done == 4
    assert live(google, CALENDAR) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CalendarConnection)) == 0
