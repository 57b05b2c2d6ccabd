"""Redis restarted EMPTY in the middle of Push Existing Data (no persistence, or a failover to a replica that lacks
the keys): its queues, marks and locks are gone while a job still runs. The connection's lease lives in the
database, so recovery does not take "nothing in Redis" for "dead worker": one job per connection at every
moment, and every item ends with exactly one Google event."""
import threading
import time

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import RunKind, RunStatus, SyncRun
from testsupport.factories import make_items
from testsupport.helpers import wait_until
from testsupport.processes import RedisServer

from .conftest import CALENDAR, connect_and_push, google_copies, settled


@pytest.fixture
def fault_redis(tmp_path):
    """A redis-server that keeps nothing on disk: restarted, it is empty."""
    server = RedisServer(tmp_path / "redis", appendonly=False)
    server.dir.mkdir()
    server.start()
    yield server
    server.stop()


def test_redis_restarted_empty_mid_push_leaves_one_job_per_connection(
        client_user, login_as, app, google, stack, fault_redis, figure):
    items = make_items(client_user, tasks=150, events=100, appointments=50)
    google.set_quota(0)  # this test measures the lease, not pacing
    google.set_latency(0, batch_inner_ms=100)  # ~5 s a batch: the push outlasts the cron's next recovery pass
    stack(workers=2)
    most_running, stop = [0], threading.Event()

    def watch() -> None:  # samples the runs table from another connection while Redis is away and back
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
    connect_and_push(client_user, login_as, app, items)
    wait_until(lambda: len(google.events(CALENDAR)) >= len(items) * 0.2, timeout=120, interval=0.2)
    fault_redis.kill()
    fault_redis.start()  # empty: no queue, no scheduled job, no coalescing mark, no continuation mark
    back_at = time.monotonic()
    done_at = settled(timeout=240, also=lambda: len({e["id"] for e in google.events(CALENDAR)}) >= len(items))
    stop.set()
    watcher.join(10)
    google.set_latency(0)
    duplicates, missing = google_copies(google, items)
    line = figure(faults="redis-restarted-empty-mid-push", items=len(items), duplicates=duplicates,
                  missing=missing, recovery_s=f"{done_at - back_at:.1f}")
    assert most_running[0] == 1, line  # never a second job beside the one that held the connection
    assert (duplicates, missing) == (0, 0), line
    runs = db.session.scalars(sa.select(SyncRun).order_by(SyncRun.id)).all()
    endings = [(run.kind, run.status, run.outcome) for run in runs]
    # The job that held the connection was alive all along: nothing was taken for dead, nothing failed.
    assert not [run for run in runs if run.status in (RunStatus.INTERRUPTED, RunStatus.FAILED)], endings
    assert [run.status for run in runs if run.kind is RunKind.PUSH_EXISTING] == [RunStatus.SUCCEEDED], endings
