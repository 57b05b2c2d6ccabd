"""A worker SIGKILLed (with its work horse and its scheduler) three times during Push Existing Data:
each killed run ends "interrupted", its work resumes on the other worker within a minute, and Google ends
with exactly one event per item."""
import time

import sqlalchemy as sa

from app.extensions import db
from app.models import RunKind, RunStatus, SyncRun
from app.sync.notes import Code
from testsupport.factories import make_items
from testsupport.helpers import wait_until

from .conftest import busy_worker, connect_and_push, google_copies, settled

ITEMS = {"tasks": 200, "events": 120, "appointments": 80}
KILL_AT = (0.1, 0.5, 0.85)  # share of the items already in Google when the busy worker is killed


def running_push(after_id: int = 0) -> SyncRun | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(SyncRun).where(
        SyncRun.kind == RunKind.PUSH_EXISTING, SyncRun.status == RunStatus.RUNNING, SyncRun.id > after_id))


def test_worker_killed_three_times_during_push_existing_data(client_user, login_as, app, google, stack, figure):
    items = make_items(client_user, **ITEMS)
    google.set_quota(0)  # this test measures recovery, not pacing: two passes over 400 items exceed 600/min
    google.set_latency(0, batch_inner_ms=40)  # ~2 s per batch of 50, so the push is long enough to be killed in
    workers = stack(workers=2)
    connect_and_push(client_user, login_as, app, items)

    def live_share() -> float:
        return sum(1 for e in google.events("alex@example.com") if e.get("status") != "cancelled") / len(items)

    killed_ids, recoveries, last_id = [], [], 0
    for share in KILL_AT:
        run = wait_until(lambda after=last_id: running_push(after), timeout=120, interval=0.2)
        wait_until(lambda at_least=share: live_share() >= at_least, timeout=120, interval=0.2)
        victim = busy_worker(workers, run)
        killed_at = time.monotonic()
        victim.kill_child()
        killed_ids.append(run.id)
        resumed = wait_until(lambda after=run.id: running_push(after), timeout=90, interval=0.2)
        recoveries.append(time.monotonic() - killed_at)
        last_id = run.id
        assert resumed.id > run.id

    settled(timeout=240)
    google.set_latency(0)
    duplicates, missing = google_copies(google, items)
    line = figure(faults="worker-sigkill-x3", items=len(items), duplicates=duplicates, missing=missing,
                  recovery_s=f"{max(recoveries):.1f}")
    killed = db.session.scalars(sa.select(SyncRun).where(SyncRun.id.in_(killed_ids))).all()
    assert {run.status for run in killed} == {RunStatus.INTERRUPTED}, stack.logs()
    assert {run.outcome for run in killed} == {Code.INTERRUPTED}
    final = db.session.scalar(sa.select(SyncRun).where(SyncRun.kind == RunKind.PUSH_EXISTING)
                              .order_by(SyncRun.id.desc()).limit(1))
    assert final.status == RunStatus.SUCCEEDED, (final.outcome, stack.logs())
    assert (duplicates, missing) == (0, 0), line
    assert max(recoveries) < 60, line
