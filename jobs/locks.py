"""One sync job per connection at a time (a lease in the database), and the coalescing marks (in Redis).

The lease is a `SyncLease` row: a random token and an expiry `SYNC_LOCK_SECONDS` (20 s) ahead, taken with one
conditional upsert (atomic on SQLite and PostgreSQL alike) and renewed by a thread of the job every third of
that: its heartbeat. So a dead worker's connection is free within 20 s, and a "running" run whose connection
holds no lease has lost its worker (see `jobs.recovery`). It lives in the database, not in Redis, because a
Redis that restarts empty must not let a second job in beside a running one. A job whose lease was taken
over (its heartbeat could not renew it in time, or its connection was deleted) stops without writing: its
next commit raises `Superseded`, which the lock swallows after rolling back.

The coalescing marks ("a push is already scheduled") stay in Redis: losing one costs a duplicate job, which
waits for the lease and finds its work done.
"""
from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import SyncLease, utcnow
from app.queues import get_redis, redis_key
from app.sync.runs import Superseded

log = logging.getLogger(__name__)
COALESCE_SECONDS = 60  # a "scheduled" mark outlives a lost job by at most this long
POLL_SECONDS = 0.25  # how often a job waiting for a connection asks again


@dataclass
class Lease:
    """A job's hold on its connection; `lost` is set once its heartbeat finds the lease gone to another."""

    connection_id: int
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    lost: threading.Event = field(default_factory=threading.Event)

    def refuse_commit_once_lost(self, _session: Session) -> None:
        if self.lost.is_set():
            raise Superseded(f"the lease on connection {self.connection_id} went to another job")


@contextmanager
def connection_lock(connection_id: int, wait: float | None = None) -> Iterator[Lease | None]:
    """The connection's lease for the block, or None if another job holds it beyond `wait` seconds (by default
    SYNC_LOCK_WAIT_SECONDS)."""
    config, engine = current_app.config, db.engine
    life = timedelta(seconds=config["SYNC_LOCK_SECONDS"])
    deadline = time.monotonic() + (config["SYNC_LOCK_WAIT_SECONDS"] if wait is None else wait)
    lease = Lease(connection_id)
    while not _take(engine, lease, life):
        if time.monotonic() >= deadline:
            yield None
            return
        time.sleep(POLL_SECONDS)
    done = threading.Event()
    threading.Thread(target=_keep_renewing, args=(engine, lease, life, done), daemon=True,
                     name=f"sync-lease-{connection_id}").start()
    session = db.session()
    event.listen(session, "before_commit", lease.refuse_commit_once_lost)
    try:
        yield lease
    except Superseded:
        db.session.rollback()
        log.warning("connection %s: another job took over; this one stopped without writing", connection_id)
    finally:
        done.set()
        event.remove(session, "before_commit", lease.refuse_commit_once_lost)
        _release(engine, lease)


def _take(engine: Engine, lease: Lease, life: timedelta) -> bool:
    """Insert the lease, or take over one that expired; False while another job's lease is alive."""
    now = utcnow()
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(SyncLease).values(connection_id=lease.connection_id, token=lease.token,
                                              expires_at=now + life)
    upsert = insert.on_conflict_do_update(index_elements=["connection_id"], where=SyncLease.expires_at < now,
                                          set_={"token": insert.excluded.token,
                                                "expires_at": insert.excluded.expires_at})
    try:
        with engine.begin() as connection:
            return connection.execute(upsert).rowcount == 1
    except IntegrityError:  # the connection is gone: nothing to sync
        return False


def _keep_renewing(engine: Engine, lease: Lease, life: timedelta, done: threading.Event) -> None:
    """The heartbeat: while the job lives its lease does too, however long a push of 100,000 items takes. A
    database busy for a moment costs nothing (the lease outlives it); a lease found gone ends the heartbeat."""
    while not done.wait(life.total_seconds() / 3):
        try:
            with engine.begin() as connection:
                renewed = connection.execute(sa.update(SyncLease).where(
                    SyncLease.connection_id == lease.connection_id, SyncLease.token == lease.token)
                    .values(expires_at=utcnow() + life)).rowcount
        except SQLAlchemyError:
            log.warning("could not renew the lease of connection %s for now", lease.connection_id)
            continue
        if not renewed:
            lease.lost.set()
            return


def _release(engine: Engine, lease: Lease) -> None:
    try:
        with engine.begin() as connection:
            connection.execute(sa.delete(SyncLease).where(SyncLease.connection_id == lease.connection_id,
                                                          SyncLease.token == lease.token))
    except SQLAlchemyError:  # it expires by itself
        log.warning("could not release the lease of connection %s", lease.connection_id)


def locked_connections(connection_ids: Iterable[int]) -> set[int]:
    """Which of these connections a live job is working on right now (one query)."""
    ids = list(connection_ids)
    if not ids:
        return set()
    return set(db.session.scalars(sa.select(SyncLease.connection_id).where(
        SyncLease.connection_id.in_(ids), SyncLease.expires_at > utcnow())))


def claim(action: str, connection_id: int, seconds: int = COALESCE_SECONDS) -> bool:
    """At most one waiting `action` job per connection: a burst of edits or notifications becomes one job."""
    return bool(get_redis().set(redis_key(f"{action}-scheduled", connection_id), 1, nx=True, ex=seconds))


def release_claim(action: str, connection_id: int) -> None:
    """Called as the job starts, so changes made while it runs schedule the next one."""
    get_redis().delete(redis_key(f"{action}-scheduled", connection_id))
