"""Every run ends truthfully: the sweep and the jobs end what a dead worker, a lost job or an early
return would leave "queued" or "running", and resume the work (in-process; tests/faults kills real ones)."""
from datetime import timedelta

import sqlalchemy as sa
from redis import Redis

from app.extensions import db
from app.integrations.words import run_words
from app.models import ConnectionStatus, PendingPush, RunKind, RunStatus, SyncRun, utcnow
from app.queues import get_queue
from app.sync.notes import Code
from app.sync.runs import new_run
from jobs.locks import claim, connection_lock
from jobs.sync import recover_runs, start_run, submit
from tests.conftest import post_form, run_jobs
from testsupport.factories import make_items
from testsupport.helpers import wait_until

from .conftest import CALENDAR, database_accepts, database_refuses, live_events, pull


def orphan(connection, kind: RunKind = RunKind.PUSH_EXISTING) -> SyncRun:
    """A run left "running" by a worker that died (no job holds the connection's lock)."""
    run = new_run(connection, kind)
    run.status, run.started_at = RunStatus.RUNNING, utcnow()
    db.session.commit()
    return run


def test_sweep_ends_a_dead_workers_run_as_interrupted_and_resumes_it(connect, user, google, app):
    items = make_items(user, tasks=3)
    connection = connect()
    dead = orphan(connection)
    db.session.execute(sa.delete(SyncRun).where(SyncRun.id != dead.id))
    db.session.commit()
    google.reset_counters()

    assert recover_runs() == 1
    db.session.refresh(dead)
    assert (dead.status, dead.outcome) == (RunStatus.INTERRUPTED, Code.INTERRUPTED)
    assert dead.finished_at is not None
    resumed = db.session.scalar(sa.select(SyncRun).where(SyncRun.id > dead.id))
    assert (resumed.kind, resumed.status) == (RunKind.PUSH_EXISTING, RunStatus.QUEUED)
    run_jobs(app)
    db.session.refresh(resumed)
    assert resumed.status == RunStatus.SUCCEEDED
    assert len(live_events(google)) == len(items)


def test_sweep_leaves_a_run_whose_job_still_holds_the_lock(connect, app):
    connection = connect()
    alive = orphan(connection, RunKind.PULL)
    with connection_lock(connection.id) as locked:
        assert locked
        assert recover_runs() == 0
    db.session.refresh(alive)
    assert alive.status == RunStatus.RUNNING


def test_a_job_taking_the_lock_ends_runs_left_running_there(connect, user, app):
    connection = connect()
    dead = orphan(connection, RunKind.PULL)
    make_items(user, tasks=1)  # its push job takes the connection's lock first
    run_jobs(app)
    db.session.refresh(dead)
    assert dead.status == RunStatus.INTERRUPTED
    assert db.session.scalar(sa.select(SyncRun).where(SyncRun.kind == RunKind.PUSH)).status == RunStatus.SUCCEEDED


def test_sync_now_on_a_connection_that_lost_its_grant_meanwhile_ends_cancelled(connect, user, login_as, app):
    connection = connect()
    client = login_as(user)
    post_form(client, "/integrations/two-way/sync", {}, page="/integrations/")
    connection.status = ConnectionStatus.RECONNECT  # found out by another job before this one starts
    db.session.commit()
    run_jobs(app)
    run = db.session.scalar(sa.select(SyncRun).where(SyncRun.kind == RunKind.SYNC))
    assert (run.status, run.outcome) == (RunStatus.CANCELLED, Code.NEEDS_ATTENTION)
    assert run.finished_at is not None


def test_sweep_requeues_a_run_whose_job_was_lost(connect, app):
    connection = connect()
    run = new_run(connection, RunKind.SYNC)
    run.queued_at = utcnow() - timedelta(minutes=2)
    db.session.commit()  # ...and its job never reached Redis (or Redis lost it)
    assert get_queue().count == 0
    recover_runs()
    assert get_queue().count == 1
    recover_runs()
    assert get_queue().count == 1  # once a minute at most, not at every sweep
    run_jobs(app)
    db.session.refresh(run)
    assert run.status == RunStatus.SUCCEEDED


def test_sweep_pushes_outbox_rows_that_missed_their_push(connect, user, google, app):
    connection = connect()
    (task,) = make_items(user, tasks=1)
    get_queue().empty()  # the push scheduled after that commit is lost with Redis
    assert not claim("push", connection.id)  # and its mark still says "scheduled"
    db.session.execute(sa.update(PendingPush).values(queued_at=utcnow() - timedelta(seconds=30)))
    db.session.commit()
    recover_runs()
    run_jobs(app)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingPush)) == 0
    assert task.title in {event["summary"] for event in live_events(google)}


def test_sync_now_without_redis_ends_failed_in_plain_words(connect, user, login_as, app, monkeypatch):
    connect()
    client = login_as(user)
    monkeypatch.setitem(app.extensions, "redis", Redis.from_url("redis://127.0.0.1:1/0"))  # nothing listens there
    response = post_form(client, "/integrations/two-way/sync", {}, page="/integrations/", follow_redirects=True)
    assert "The background workers are unavailable right now." in response.get_data(as_text=True)
    run = db.session.scalar(sa.select(SyncRun).where(SyncRun.kind == RunKind.SYNC))
    assert (run.status, run.outcome) == (RunStatus.FAILED, Code.WORKERS_UNAVAILABLE)


def test_a_duplicate_job_of_a_finished_run_does_nothing(connect, app):
    connection = connect()
    run = new_run(connection, RunKind.SYNC)
    submit(run)
    run_jobs(app)
    finished_at = db.session.get(SyncRun, run.id).finished_at
    connection.status = ConnectionStatus.RECONNECT  # nothing a late copy of the job may change now
    db.session.commit()
    start_run(run.id)
    db.session.refresh(run)
    assert (run.status, run.finished_at) == (RunStatus.SUCCEEDED, finished_at)


def test_a_run_that_ended_while_the_sweep_looked_keeps_its_true_ending(connect, app):
    from app.sync.runs import interrupt

    run = orphan(connect(), RunKind.PULL)
    stale_view = db.session.get(SyncRun, run.id)
    db.session.execute(sa.update(SyncRun).where(SyncRun.id == run.id).values(status=RunStatus.SUCCEEDED))
    db.session.commit()  # its job finished (and released the lock) after the sweep read it as "running"
    assert not interrupt(stale_view)
    assert db.session.get(SyncRun, run.id).status == RunStatus.SUCCEEDED


def test_a_crash_ends_its_run_saying_truly_who_tries_again(connect, user, google, app, login_as):
    """An edit's push is tried again by itself (its outbox row stays); a person's Push Existing Data asks them."""
    (task,) = make_items(user, tasks=1)
    connect()
    database_refuses("event_link", "1 = 1")  # every run that saves a link crashes
    task.title = "Edited while the database refused"
    db.session.commit()
    run_jobs(app)
    crashed = db.session.scalar(sa.select(SyncRun).order_by(SyncRun.id.desc()))
    assert (crashed.kind, crashed.status, crashed.outcome) == (RunKind.PUSH, RunStatus.FAILED, Code.UNEXPECTED)
    assert run_words(crashed) == "An unexpected error stopped the sync; it will be tried again by itself."
    browser = login_as(user)
    post_form(browser, "/integrations/two-way/push", {"calendar_id": CALENDAR}, page="/integrations/")
    run_jobs(app)
    crashed = db.session.scalar(sa.select(SyncRun).order_by(SyncRun.id.desc()))
    assert (crashed.kind, crashed.status) == (RunKind.PUSH_EXISTING, RunStatus.FAILED)
    assert "Please try again" in run_words(crashed)
    assert "Please try again" in browser.get("/integrations/").get_data(as_text=True)

    database_accepts("event_link")
    pull(app)  # the sweep: nobody asked again, yet the edit reaches Google
    assert [e["summary"] for e in live_events(google)] == ["Edited while the database refused"]


def test_a_job_whose_connection_went_to_another_job_stops_without_writing(connect, app):
    """Its lease expired and another job took the connection (a stalled process, a database away too long):
    at its next commit the first job finds out, rolls back and stops; what it had not committed is not written."""
    from app.models import CalendarConnection, SyncLease

    app.config["SYNC_LOCK_SECONDS"] = 1.5  # the heartbeat renews every half second
    connection = connect()
    with connection_lock(connection.id) as lease:
        db.session.execute(sa.update(SyncLease).values(token="another job"))  # the other job took it over
        db.session.commit()
        wait_until(lease.lost.is_set, timeout=10)
        connection.calendar_summary = "Written by a job that lost its connection"
        db.session.commit()
        raise AssertionError("a replaced job went on after its commit")
    db.session.expire_all()
    assert db.session.get(CalendarConnection, connection.id).calendar_summary != (
        "Written by a job that lost its connection")
