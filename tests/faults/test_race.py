"""Two workers racing for one connection: Sync now twice and Push Existing Data again, clicked at once (the
card offers nothing while a push runs, so the clicks come after the first one). One job at a time holds the
connection (never two runs "running" together), every run ends succeeded, and Google ends with exactly one
event per item."""
import threading
import time

import sqlalchemy as sa

from app.extensions import db
from app.models import RunStatus, SyncRun
from tests.conftest import post_form
from testsupport.factories import make_items

from .conftest import CALENDAR, connect_and_push, google_copies, settled


def test_two_workers_race_for_one_connection(client_user, login_as, app, google, stack, figure):
    items = make_items(client_user, tasks=150, events=100, appointments=50)
    google.set_quota(0)  # this test measures the lock, not pacing (see test_worker_kill)
    google.set_latency(0, batch_inner_ms=10)
    stack(workers=2)
    started = time.monotonic()
    client, _ = connect_and_push(client_user, login_as, app, items)
    settled(timeout=240)
    most_running, stop = [0], threading.Event()

    def watch() -> None:  # samples the runs table from another connection while the workers race
        engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
        with engine.connect() as connection:
            while not stop.wait(0.05):
                running = connection.scalar(sa.select(sa.func.count()).select_from(SyncRun).where(
                    SyncRun.status == RunStatus.RUNNING))
                connection.rollback()
                most_running[0] = max(most_running[0], running)
        engine.dispose()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    for path, data in (("sync", {}), ("sync", {}), ("push", {"calendar_id": CALENDAR})):
        post_form(client, f"/integrations/two-way/{path}", data, page="/integrations/")
    done_at = settled(timeout=240)
    stop.set()
    watcher.join(10)
    google.set_latency(0)
    duplicates, missing = google_copies(google, items)
    line = figure(faults="two-workers-one-connection", items=len(items), duplicates=duplicates, missing=missing,
                  recovery_s=f"{done_at - started:.1f}")
    runs = db.session.scalars(sa.select(SyncRun)).all()
    assert len(runs) >= 5 and {run.status for run in runs} == {RunStatus.SUCCEEDED}, [
        (run.kind, run.status, run.outcome) for run in runs]
    assert most_running[0] == 1, line
    logs = stack.logs(tail=None)
    assert all(f"run={run.id} job=" in logs for run in runs)  # each run's log lines carry its id
    assert (duplicates, missing) == (0, 0), line
