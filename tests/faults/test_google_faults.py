"""Google misbehaving, as seen from real worker processes: 20 % of calls refused with 429/403/500/503,
a revoked refresh token, and a sync token Google no longer accepts (410)."""
import time

import sqlalchemy as sa

from app.extensions import db
from app.models import CalendarConnection, ConnectionStatus, GoogleEvent, RunKind, RunStatus, SyncRun, Task
from app.sync.notes import Code
from jobs.sync import schedule_pull
from tests.conftest import post_form, run_jobs
from tests.google_flow import google_user_calendar, sign_in_with_google
from testsupport.factories import make_items
from testsupport.helpers import wait_until

from .conftest import CALENDAR, connect_and_push, google_copies, settled, unfinished_runs

# One rule per status; each takes 5 % of all calls (a rule sees only the calls the rules before it let through).
FAULT_RULES = [{"status": 429, "fraction": 0.05},
               {"status": 403, "reason": "rateLimitExceeded", "fraction": 0.05 / 0.95},
               {"status": 500, "fraction": 0.05 / 0.90}, {"status": 503, "fraction": 0.05 / 0.85}]


def latest(kind: RunKind) -> SyncRun:
    db.session.expire_all()
    return db.session.scalar(sa.select(SyncRun).where(SyncRun.kind == kind).order_by(SyncRun.id.desc()).limit(1))


def test_twenty_percent_of_google_calls_fail(client_user, login_as, app, google, stack, figure):
    items = make_items(client_user, tasks=150, events=100, appointments=50)
    google.set_quota(0)  # the injected 403s stand in for the quota here
    for rule in FAULT_RULES:
        google.add_fault(**rule)
    stack(workers=2)
    started = time.monotonic()
    client, _ = connect_and_push(client_user, login_as, app, items)
    settled(timeout=240)
    first_pass = latest(RunKind.PUSH_EXISTING)
    if first_pass.failed:  # an item refused five times running: the user's "Push Existing Data again"
        post_form(client, "/integrations/two-way/push", {"calendar_id": CALENDAR}, page="/integrations/")
        settled(timeout=240)
    done_at = time.monotonic()
    google.clear_faults()
    duplicates, missing = google_copies(google, items)
    line = figure(faults="emulator-20pct-429/403/500/503", items=len(items), duplicates=duplicates, missing=missing,
                  recovery_s=f"{done_at - started:.1f}")
    assert first_pass.status == RunStatus.SUCCEEDED, (first_pass.outcome, stack.logs())
    assert (duplicates, missing) == (0, 0), line
    assert not unfinished_runs()


def test_revoked_refresh_token_ends_every_run_and_reconnecting_pushes_what_waited(
        client_user, login_as, app, google, stack, figure):
    items = make_items(client_user, tasks=20, events=10)
    client, connection = connect_and_push(client_user, login_as, app, items)
    run_jobs(app)  # pushed in-process: the worker processes start only after the grant is revoked
    google.revoke_user_tokens(CALENDAR)
    for _ in range(2):  # two clicks while the portal does not know yet: both runs are queued
        post_form(client, "/integrations/two-way/sync", {}, page="/integrations/")
    edited = items[:5]
    for item in edited:
        item.title += " (edited while revoked)"
    db.session.commit()
    stack(workers=1)
    wait_until(lambda: not unfinished_runs(), timeout=60, interval=0.2)
    db.session.expire_all()
    assert db.session.get(CalendarConnection, connection.id).status is ConnectionStatus.RECONNECT
    everything = [(r.kind, r.status, r.outcome) for r in db.session.scalars(sa.select(SyncRun).order_by(SyncRun.id))]
    revoked = [(status, outcome) for _, status, outcome in everything if outcome == Code.GRANT_REVOKED]
    assert revoked and {status for status, _ in revoked} == {RunStatus.FAILED}, everything  # whoever ran first
    syncs = everything[-2:]
    assert {(status, outcome) for _, status, outcome in syncs} <= {
        *revoked, (RunStatus.CANCELLED, Code.NEEDS_ATTENTION)}
    assert syncs[-1][1:] == (RunStatus.CANCELLED, Code.NEEDS_ATTENTION), everything  # returned early, and said so
    assert post_form(client, "/integrations/two-way/sync", {}, page="/integrations/").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SyncRun)) == len(everything)  # none queued

    reconnected_at = time.monotonic()
    sign_in_with_google(client)
    done_at = wait_until(lambda: all(item.title in {e.get("summary") for e in google.events(CALENDAR)}
                                     for item in edited) and time.monotonic(), timeout=120, interval=0.2)
    settled(timeout=120)
    duplicates, missing = google_copies(google, items)
    line = figure(faults="revoked-refresh-token", items=len(items), duplicates=duplicates, missing=missing,
                  recovery_s=f"{done_at - reconnected_at:.1f}")
    assert (duplicates, missing) == (0, 0), line
    assert latest(RunKind.SYNC).status == RunStatus.SUCCEEDED


def test_sync_token_refused_with_410_resyncs_without_duplicates(client_user, login_as, app, google, stack, figure):
    items = make_items(client_user, tasks=60, events=40)
    stack(workers=2)
    connect_and_push(client_user, login_as, app, items)
    settled(timeout=120, also=lambda: latest(RunKind.PULL) is not None and latest(RunKind.PULL).finished)
    gcal = google_user_calendar(google, app)
    for n in range(10):
        day = n % 9 + 1
        gcal.insert(calendarId=CALENDAR, body={"summary": f"Dentist {n}", "start": {"date": f"2030-01-{day:02d}"},
                                               "end": {"date": f"2030-01-{day + 1:02d}"}}).execute()
    renamed = [e for e in google.events(CALENDAR) if e.get("summary", "").startswith("Task ")][:5]
    for event in renamed:
        gcal.patch(calendarId=CALENDAR, eventId=event["id"], body={"summary": event["summary"] + " (Google)"}).execute()
    google.expire_sync_tokens()

    started = time.monotonic()
    schedule_pull(db.session.scalar(sa.select(CalendarConnection.id)))
    done_at = settled(timeout=120, also=lambda: latest(RunKind.FULL_RESYNC) is not None)
    duplicates, missing = google_copies(google, items)
    natives = db.session.scalars(sa.select(GoogleEvent.summary)).all()
    line = figure(faults="sync-token-410", items=len(items), duplicates=duplicates + len(natives) - len(set(natives)),
                  missing=missing + 10 - len(set(natives)), recovery_s=f"{done_at - started:.1f}")
    assert latest(RunKind.FULL_RESYNC).status == RunStatus.SUCCEEDED, stack.logs()
    assert sorted(natives) == sorted(f"Dentist {n}" for n in range(10))
    titles = set(db.session.scalars(sa.select(Task.title)).all())
    assert {event["summary"] + " (Google)" for event in renamed} <= titles
    assert (duplicates, missing) == (0, 0), line
