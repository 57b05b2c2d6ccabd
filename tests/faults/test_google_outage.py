"""Google down for five minutes (#27): every Calendar call answers 503 while 100 items are edited, with real workers
and the real cron. The connection and the project back off as a whole (`app.google.outage`): a few probe calls a
minute, not retries per item; once Google answers again everything drains, each item in Google once, and no job
fails. Before the breakers the same outage cost 1,340 calls (13 per edited item)."""
import time

import sqlalchemy as sa
from rq.registry import FailedJobRegistry

from app.extensions import db
from app.models import PendingPush
from app.queues import all_queues
from testsupport.factories import make_items

from .conftest import CALENDAR, connect_and_push, google_copies, settled, unfinished_runs

OUTAGE_SECONDS = 300
EDITS = 100
MARK = " (edited during the outage)"


def test_google_down_costs_a_few_probes_a_minute_and_everything_drains_after(
        client_user, login_as, app, google, stack, figure):
    items = make_items(client_user, tasks=60, events=40)
    stack(workers=2)
    connect_and_push(client_user, login_as, app, items)
    settled(timeout=180)
    google.add_fault(status=503, fraction=1.0)  # every Calendar call, batch members one by one
    google.reset_counters()
    down_at = time.monotonic()
    for item in items[:EDITS]:  # the edits spread over the first four minutes of the outage
        item.title += MARK
        db.session.commit()
        time.sleep(OUTAGE_SECONDS * 0.8 / EDITS)
    time.sleep(max(0.0, down_at + OUTAGE_SECONDS - time.monotonic()))
    calls, methods = google.counters()["total"], google.counters()["methods"]
    google.clear_faults()
    back_at = time.monotonic()
    waiting = db.session.scalar(sa.select(sa.func.count()).select_from(PendingPush))
    drained_at = settled(timeout=300, also=lambda: edited_in_google(google) == EDITS)
    duplicates, missing = google_copies(google, items)
    failed_jobs = sum(FailedJobRegistry(queue=queue).count for queue in all_queues())
    per_minute = calls / (OUTAGE_SECONDS / 60)
    line = figure(faults=f"google-503-for-{OUTAGE_SECONDS}s+{EDITS}-edits", items=len(items), duplicates=duplicates,
                  missing=missing, recovery_s=f"{drained_at - back_at:.1f}", outage_calls=calls,
                  outage_calls_per_minute=f"{per_minute:.1f}", drain_s=f"{drained_at - back_at:.1f}",
                  waiting_when_back=waiting, failed_jobs=failed_jobs)
    print(line, methods)  # which Calendar methods the calls were
    assert waiting == EDITS, line  # nothing was lost meanwhile: every edit waited in the outbox
    assert per_minute <= 10, line + stack.logs()  # a few probes a minute, not retries per item
    assert edited_in_google(google) == EDITS and (duplicates, missing) == (0, 0), line
    assert drained_at - back_at <= 120, line
    assert failed_jobs == 0 and not unfinished_runs(), line


def edited_in_google(google) -> int:
    return sum(1 for event in google.events(CALENDAR)
               if event.get("status") != "cancelled" and MARK in event.get("summary", ""))
