"""One item never blocks the others: undated tasks, items Google refuses, items Google keeps failing
(issue #10, findings 1 and 6). Through the real forms, worker, Redis, client library and emulator."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import Event, FailureKind, GoogleEvent, PendingPush, SyncFailure, SyncRun, Task, utcnow
from app.sync.notes import Note
from tests.conftest import post_form, run_jobs
from tests.sync.conftest import CALENDAR, database_refuses, link_for, live_events, pull
from testsupport.factories import make_items

RAW_ERROR_WORDS = ("Error", "Traceback", "NoneType", "isoformat")


def last_run() -> SyncRun:
    return db.session.scalar(sa.select(SyncRun).order_by(SyncRun.id.desc()))


def failure_of(item) -> SyncFailure | None:
    return db.session.scalar(sa.select(SyncFailure).where(SyncFailure.item_type == item.kind,
                                                          SyncFailure.item_id == item.id))


def test_an_undated_task_is_not_pushed_and_blocks_nothing(connect, user, google, app, login_as):
    connect()
    browser = login_as(user)
    for title, due in (("Call the bank", ""), ("Sign the lease", "2031-01-10")):
        response = post_form(browser, "/tasks/new", {"title": title, "due_date": due}, page="/tasks/new")
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
    run_jobs(app)
    undated, dated = db.session.scalars(sa.select(Task).order_by(Task.id)).all()
    assert [e["summary"] for e in live_events(google)] == ["Sign the lease"]
    assert last_run().status == "succeeded" and last_run().failed == 0
    page = browser.get(f"/tasks/{undated.id}").get_data(as_text=True)
    assert "Not in Google:</strong> it has no due date. Give it one to see it in Google Calendar." in page
    assert f"retry-task-{undated.id}" not in page  # deliberate: nothing to retry
    assert "Not in Google" not in browser.get(f"/tasks/{dated.id}").get_data(as_text=True)
    integrations = browser.get("/integrations/").get_data(as_text=True)
    assert not any(word in integrations for word in RAW_ERROR_WORDS), integrations

    # Giving it a due date puts it in Google; removing it again takes the copy out.
    response = post_form(browser, f"/tasks/{undated.id}/edit", {"title": "Call the bank", "due_date": "2031-01-11"},
                         page=f"/tasks/{undated.id}/edit")
    assert response.status_code == 302
    run_jobs(app)
    assert sorted(e["summary"] for e in live_events(google)) == ["Call the bank", "Sign the lease"]
    assert failure_of(undated) is None
    post_form(browser, f"/tasks/{undated.id}/edit", {"title": "Call the bank", "due_date": ""},
              page=f"/tasks/{undated.id}/edit")
    run_jobs(app)
    assert [e["summary"] for e in live_events(google)] == ["Sign the lease"]
    assert link_for(undated) is None and failure_of(undated).kind is FailureKind.NOT_SYNCED
    post_form(browser, f"/tasks/{undated.id}/delete", {}, page=f"/tasks/{undated.id}")
    run_jobs(app)
    assert failure_of(undated) is None  # in the Trash: nothing is missing from Google any more


def test_an_item_google_refuses_fails_alone_and_can_be_retried(connect, user, google, app, login_as):
    tasks = make_items(user, tasks=2)
    refused = Event(company_id=user.company_id, title="Offsite", created_by_id=user.id, timezone="Mars/Olympus",
                    start_at=utcnow().replace(microsecond=0), end_at=utcnow().replace(microsecond=0), attendees=[user])
    refused.end_at = refused.start_at.replace(hour=(refused.start_at.hour + 1) % 24)
    db.session.add(refused)
    db.session.commit()
    connect()  # Push Existing Data
    assert sorted(e["summary"] for e in live_events(google)) == [t.title for t in tasks]
    run = db.session.scalar(sa.select(SyncRun).where(SyncRun.kind == "push_existing"))
    assert (run.status, run.failed, run.created) == ("succeeded", 1, 2)
    assert run.errors == [{"code": "item_refused", "params": {"status": 400, "reason": "invalid"}, "title": "Offsite"}]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingPush)) == 0  # no retry loop
    browser = login_as(user)
    page = browser.get(f"/events/{refused.id}").get_data(as_text=True)
    assert "Not in Google:</strong> Google refused it as invalid." in page and f'id="retry-event-{refused.id}"' in page
    integrations = browser.get("/integrations/").get_data(as_text=True)
    assert "1 item is not in Google." in integrations
    assert "Offsite</a>: Google refused it as invalid." in integrations
    assert "Mars" not in integrations  # Google's own message stays in the logs

    google.reset_counters()
    pull(app)  # the cron sweep does not try it again on its own
    assert google.counters()["methods"].get("calendar.events.insert", 0) == 0

    assert browser.post(f"/events/{refused.id}/sync/retry").status_code == 400  # CSRF
    response = post_form(browser, f"/events/{refused.id}/sync/retry", {"back": "integrations"},
                         page=f"/events/{refused.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith("/integrations/")
    run_jobs(app)  # tried once more, refused once more
    assert google.counters()["methods"].get("calendar.events.insert", 0) == 1
    assert failure_of(refused).kind is FailureKind.REFUSED

    refused.timezone = "Europe/Paris"  # fixed: the edit's own push puts it in Google and clears the marker
    db.session.commit()
    run_jobs(app)
    assert "Offsite" in [e["summary"] for e in live_events(google)]
    assert failure_of(refused) is None
    assert "Not in Google" not in browser.get(f"/events/{refused.id}").get_data(as_text=True)


def test_retry_is_refused_for_items_of_another_tenant_or_user(connect, user, users, other_company, login_as):
    (task,) = make_items(user, tasks=1)
    outsider = login_as(other_company[1][user.role])
    assert post_form(outsider, f"/tasks/{task.id}/sync/retry", {}).status_code == 404


def test_items_google_keeps_failing_during_push_existing_data_stay_queued(connect, user, google, app):
    make_items(user, tasks=2)
    google.add_fault(status=503, count=40, match="insert")  # more than the client's retries, for both items
    connection = connect()
    run = db.session.scalar(sa.select(SyncRun).where(SyncRun.kind == "push_existing"))
    assert run.failed == 2 and live_events(google) == []
    pending = db.session.scalars(sa.select(PendingPush)).all()
    assert len(pending) == 2 and all(row.not_before > utcnow() for row in pending)  # backoff, not dropped
    assert {f.kind for f in db.session.scalars(sa.select(SyncFailure))} == {FailureKind.RETRYING}
    google.clear_faults()
    db.session.execute(sa.update(PendingPush).values(not_before=utcnow()))  # the backoff is over
    db.session.commit()
    pull(app)  # the cron sweep
    assert len(live_events(google)) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingPush)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SyncFailure)) == 0
    db.session.refresh(connection)
    assert connection.problem is None


def test_backoff_grows_and_stays_bounded():
    from app.sync.failures import LONGEST_PAUSE, next_attempt

    failure = SyncFailure(attempts=1)
    now = utcnow()
    pauses = []
    for attempts in range(1, 12):
        failure.attempts = attempts
        pauses.append(next_attempt(failure, now) - now)
    assert pauses == sorted(pauses) and pauses[0].total_seconds() == 60 and pauses[-1] == LONGEST_PAUSE


def test_google_answers_become_the_right_code_and_kind_of_failure():
    from app.google import GoogleError, PermanentError
    from app.sync.notes import Code, item_problem

    def code(error):
        kind, note = item_problem(error)
        return kind, note.code

    assert item_problem(PermanentError("Invalid time zone definition.", 400, "invalid")) == (
        FailureKind.REFUSED, Note(Code.ITEM_REFUSED, {"status": 400, "reason": "invalid"}))
    assert code(PermanentError("Forbidden", 403, "forbidden"))[0] is FailureKind.REFUSED
    assert code(PermanentError("Calendar usage limits exceeded.", 403, "quotaExceeded")) == (
        FailureKind.RETRYING, Code.RATE_LIMITED)
    assert code(GoogleError("Rate Limit Exceeded", 429, "rateLimitExceeded")) == (
        FailureKind.RETRYING, Code.RATE_LIMITED)
    assert code(PermanentError("Invalid Credentials", 401, "authError")) == (
        FailureKind.RETRYING, Code.GOOGLE_UNAVAILABLE)
    assert code(GoogleError("Backend Error", 503, "backendError")) == (FailureKind.RETRYING, Code.GOOGLE_UNAVAILABLE)
    assert code(GoogleError("Google unreachable: timed out")) == (FailureKind.RETRYING, Code.GOOGLE_UNAVAILABLE)


def test_a_copy_of_our_event_made_in_google_blocks_no_pull(connect, user, google, gcal, app):
    """Another app (or a script) copies one of our events, private properties and all, into the same calendar.
    The copy is not taken for ours (its item already has its event), and Google's other changes still come in."""
    first, second = make_items(user, tasks=2)
    connect()
    ours = next(e for e in live_events(google) if e["summary"] == first.title)
    copy = {key: ours[key] for key in ("summary", "start", "end", "extendedProperties")}
    gcal.insert(calendarId=CALENDAR, body=copy).execute()
    gcal.patch(calendarId=CALENDAR, eventId=link_for(second).google_event_id, body={"summary": "From Google"}).execute()
    pull(app)
    assert last_run().status == "succeeded", last_run().outcome
    assert db.session.get(Task, second.id).title == "From Google"
    assert link_for(first).google_event_id == ours["id"]
    pull(app)  # and the next one too: nothing is left stuck
    assert last_run().status == "succeeded", last_run().outcome


def test_a_google_event_the_portal_cannot_take_in_holds_back_no_other(connect, user, google, gcal, app, login_as):
    """Whatever the reason one event fails, the rest of its page comes in, the sync token moves on, and the next
    pull does not meet it again; the card names it in plain words."""
    (task,) = make_items(user, tasks=1)
    connect()
    database_refuses("google_event", "NEW.summary = 'Cannot be stored'")
    day = {"start": {"date": "2031-02-03"}, "end": {"date": "2031-02-04"}}
    for title in ("Before it", "Cannot be stored", "After it"):
        gcal.insert(calendarId=CALENDAR, body={"summary": title, **day}).execute()
    gcal.patch(calendarId=CALENDAR, eventId=link_for(task).google_event_id, body={"summary": "From Google"}).execute()
    pull(app)
    run = last_run()
    assert run.status == "succeeded" and run.failed == 1, (run.status, run.outcome, run.errors)
    assert sorted(db.session.scalars(sa.select(GoogleEvent.summary))) == ["After it", "Before it"]
    assert db.session.get(Task, task.id).title == "From Google"
    card = login_as(user).get("/integrations/").get_data(as_text=True)
    assert "“Cannot be stored” could not be taken in from Google" in card
    assert not any(word in card for word in RAW_ERROR_WORDS)
    gcal.insert(calendarId=CALENDAR, body={"summary": "Later", **day}).execute()
    pull(app)
    assert last_run().status == "succeeded" and last_run().failed == 0
    assert "Later" in db.session.scalars(sa.select(GoogleEvent.summary)).all()

    # In a full resync (Google expired the token), an event that fails keeps its row: it is not taken for gone.
    before = next(e for e in live_events(google) if e["summary"] == "Before it")
    gcal.patch(calendarId=CALENDAR, eventId=before["id"], body={"summary": "Cannot be stored"}).execute()
    google.expire_sync_tokens()
    pull(app)
    assert last_run().kind == "full_resync" and last_run().failed == 2  # both events now titled so
    assert sorted(db.session.scalars(sa.select(GoogleEvent.summary))) == ["After it", "Before it", "Later"]
