"""Enqueueing sync jobs: coalesced per connection, one job at a time per connection (Redis lock)."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from flask import current_app
from redis.exceptions import LockError, RedisError

from ..extensions import db
from ..models import CalendarConnection, SyncRun, utcnow
from ..queues import get_queue, get_redis, redis_key
from .runs import new_run

JOB_TIMEOUT = 3600
JOB_OPTIONS = {"job_timeout": JOB_TIMEOUT, "failure_ttl": 7 * 86400}  # failed jobs stay a week for inspection
LOCK_SECONDS = 600  # a dead worker's lock expires after this; live jobs extend it as they go


def enqueue_run(run: SyncRun, func: str, *args) -> bool:
    """Enqueue a job for an already committed SyncRun (write the record, then enqueue).

    Without Redis the run is marked failed in plain words rather than left queued forever.
    """
    try:
        get_queue().enqueue(func, run.id, *args, job_id=f"{current_app.config['REDIS_NAMESPACE']}-run-{run.id}",
                            result_ttl=3600, **JOB_OPTIONS)
    except RedisError:
        current_app.logger.exception("could not enqueue sync run %s", run.id)
        run.status, run.finished_at = "failed", utcnow()
        run.message = "The background workers are unavailable right now. Please try again in a few minutes."
        db.session.commit()
        return False
    return True


def _schedule_once(action: str, connection_id: int, delay_seconds: float = 0) -> bool:
    """At most one queued `action` job per connection: a burst of edits or notifications becomes one job.

    With a delay, every change made before the job starts rides along with it.
    """
    if not get_redis().set(redis_key(f"{action}-scheduled", connection_id), 1, nx=True, ex=LOCK_SECONDS):
        return False
    func = f"jobs.sync.{action}_changes"
    if delay_seconds:
        get_queue().enqueue_in(timedelta(seconds=delay_seconds), func, connection_id, result_ttl=600, **JOB_OPTIONS)
    else:
        get_queue().enqueue(func, connection_id, result_ttl=600, **JOB_OPTIONS)
    return True


def _clear_schedule(action: str, connection_id: int) -> None:
    """Called as the job starts, so changes made while it runs schedule the next one."""
    get_redis().delete(redis_key(f"{action}-scheduled", connection_id))


def schedule_push(connection_id: int) -> bool:
    return _schedule_once("push", connection_id, current_app.config["PUSH_COALESCE_SECONDS"])


def schedule_pull(connection_id: int) -> bool:
    return _schedule_once("pull", connection_id)


def clear_push_schedule(connection_id: int) -> None:
    _clear_schedule("push", connection_id)


def clear_pull_schedule(connection_id: int) -> None:
    _clear_schedule("pull", connection_id)


@contextmanager
def connection_lock(connection_id: int) -> Iterator[bool]:
    """One sync job per connection at a time, across workers and machines.

    The lock expires LOCK_SECONDS after a worker dies; while the job lives, a watchdog thread keeps
    extending it, so a long push of 100,000 items keeps it too.
    """
    lock = get_redis().lock(redis_key("sync-lock", connection_id), timeout=LOCK_SECONDS,
                            blocking_timeout=current_app.config["SYNC_LOCK_WAIT_SECONDS"], thread_local=False)
    acquired = lock.acquire()
    done = threading.Event()
    if acquired:
        threading.Thread(target=_keep_extending, args=(lock, done), daemon=True).start()
    try:
        yield acquired
    finally:
        done.set()
        if acquired:
            try:
                lock.release()
            except LockError:  # expired meanwhile: another job may hold it now; nothing to release
                current_app.logger.warning("sync lock for connection %s expired before release", connection_id)


def _keep_extending(lock, done: threading.Event) -> None:
    while not done.wait(LOCK_SECONDS / 3):
        try:
            lock.reacquire()
        except LockError:
            return


def retry_later(func: str, *args, seconds: int = 15) -> None:
    """The connection is busy: run this job again shortly instead of failing it (needs `--with-scheduler`)."""
    get_queue().enqueue_in(timedelta(seconds=seconds), func, *args, result_ttl=600, **JOB_OPTIONS)


def request_sync(connection: CalendarConnection) -> SyncRun | None:
    """'Sync now': push what is pending and, for 2-way, pull Google's changes. Commits, then enqueues."""
    if not connection.can_sync:
        return None
    run = new_run(connection, "sync")
    db.session.commit()
    return run if enqueue_run(run, "jobs.sync.sync_now") else None
