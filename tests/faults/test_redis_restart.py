"""redis-server SIGKILLed in the middle of Push Existing Data and started again from its append-only file:
work planned for later is still planned, the supervised workers and cron come back, edits made during the
outage reach Google within a minute of Redis's return, and every item ends with exactly one Google event."""
import time
from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import RunKind, RunStatus, SyncRun
from app.queues import PERIODIC, get_queue
from jobs.periodic import poll_connection
from testsupport.factories import make_items
from testsupport.helpers import wait_until

from .conftest import CALENDAR, connect_and_push, google_copies, settled

OUTAGE_SECONDS = 5
EDITS = 20


def test_redis_killed_and_restarted_mid_push(client_user, login_as, app, google, stack, fault_redis, figure):
    items = make_items(client_user, tasks=150, events=100, appointments=50)
    google.set_quota(0)  # this test measures recovery, not pacing (see test_worker_kill)
    google.set_latency(0, batch_inner_ms=40)
    stack(workers=2)
    _, connection = connect_and_push(client_user, login_as, app, items)
    wait_until(lambda: db.session.scalar(sa.select(SyncRun.id).where(SyncRun.status == RunStatus.RUNNING)),
               timeout=120, interval=0.2)
    wait_until(lambda: len(google.events(CALENDAR)) >= len(items) * 0.3, timeout=120, interval=0.2)

    # Work planned for later lives only in Redis (a safety-net poll, an instalment due tomorrow): it must survive.
    planned = get_queue(PERIODIC).enqueue_in(timedelta(days=1), poll_connection, connection.id).id
    fault_redis.kill()
    edited = items[:EDITS]
    for item in edited:  # committed while Redis is away: only the durable outbox knows about them
        item.title = f"{item.title} (edited during the outage)"
        db.session.commit()
    time.sleep(OUTAGE_SECONDS)
    fault_redis.start()
    back_at = time.monotonic()
    assert planned in get_queue(PERIODIC).scheduled_job_registry.get_job_ids()  # not lost with the process

    def edits_in_google() -> bool:
        titles = {e.get("summary") for e in google.events(CALENDAR) if e.get("status") != "cancelled"}
        return all(item.title in titles for item in edited)

    done_at = wait_until(lambda: edits_in_google() and time.monotonic(), timeout=180, interval=0.2)
    settled(timeout=180)
    google.set_latency(0)
    duplicates, missing = google_copies(google, items)
    line = figure(faults=f"redis-sigkill-{OUTAGE_SECONDS}s-outage+{EDITS}-edits", items=len(items),
                  duplicates=duplicates, missing=missing, recovery_s=f"{done_at - back_at:.1f}")
    assert (duplicates, missing) == (0, 0), line
    assert done_at - back_at < 60, line
    ended = db.session.scalars(sa.select(SyncRun).where(SyncRun.kind == RunKind.PUSH_EXISTING)).all()
    assert ended[-1].status == RunStatus.SUCCEEDED, stack.logs()
