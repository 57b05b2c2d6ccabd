"""The per-connection Redis lock (one sync job per connection at a time) and the coalescing marks.

The lock doubles as the running job's heartbeat: it lives `SYNC_LOCK_SECONDS` (20 s by default) and a
thread of the job renews it every third of that, so a dead worker's lock is gone within 20 s
and a "running" run whose connection holds no lock has lost its worker (see `jobs.recovery`).
"""
from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from flask import current_app
from redis.exceptions import LockError, RedisError
from redis.lock import Lock

from app.queues import get_redis, redis_key

COALESCE_SECONDS = 60  # a "scheduled" mark outlives a lost job by at most this long


def _lock_key(connection_id: int) -> str:
    return redis_key("sync-lock", connection_id)


@contextmanager
def connection_lock(connection_id: int, wait: float | None = None) -> Iterator[bool]:
    """One sync job per connection at a time, across workers and machines.

    Yields whether the lock was acquired (within `wait` seconds, by default SYNC_LOCK_WAIT_SECONDS).
    """
    seconds = current_app.config["SYNC_LOCK_SECONDS"]
    lock = get_redis().lock(_lock_key(connection_id), timeout=seconds, thread_local=False,
                            blocking_timeout=current_app.config["SYNC_LOCK_WAIT_SECONDS"] if wait is None else wait)
    acquired = lock.acquire(blocking=wait != 0)
    done = threading.Event()
    if acquired:
        threading.Thread(target=_keep_renewing, args=(lock, done, seconds / 3), daemon=True,
                         name=f"sync-lock-{connection_id}").start()
    try:
        yield acquired
    finally:
        done.set()
        if acquired:
            try:
                lock.release()
            except LockError:  # expired meanwhile: another job may hold it now; nothing to release
                current_app.logger.warning("sync lock for connection %s expired before release", connection_id)
            except RedisError:  # Redis is down: the lock expires by itself
                current_app.logger.warning("could not release the sync lock of connection %s", connection_id)


def _keep_renewing(lock: Lock, done: threading.Event, every: float) -> None:
    """The heartbeat: while the job lives its lock does too, however long a push of 100,000 items takes.

    A Redis hiccup shorter than the lock's life costs nothing; a lost lock ends the heartbeat.
    """
    while not done.wait(every):
        try:
            lock.reacquire()
        except LockError:
            return
        except RedisError:
            continue


def locked_connections(connection_ids: Iterable[int]) -> set[int]:
    """Which of these connections a live job is working on right now (one round trip)."""
    ids = list(connection_ids)
    if not ids:
        return set()
    held = get_redis().mget([_lock_key(i) for i in ids])
    return {i for i, value in zip(ids, held, strict=True) if value is not None}


def claim(action: str, connection_id: int, seconds: int = COALESCE_SECONDS) -> bool:
    """At most one waiting `action` job per connection: a burst of edits or notifications becomes one job."""
    return bool(get_redis().set(redis_key(f"{action}-scheduled", connection_id), 1, nx=True, ex=seconds))


def release_claim(action: str, connection_id: int) -> None:
    """Called as the job starts, so changes made while it runs schedule the next one."""
    get_redis().delete(redis_key(f"{action}-scheduled", connection_id))

