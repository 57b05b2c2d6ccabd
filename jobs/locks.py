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
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError

from app.extensions import db
from app.models import CalendarConnection, SyncLease, utcnow
from app.queues import get_redis, redis_key
from app.sync.connections import connection_gone
from app.sync.runs import Superseded

log = logging.getLogger(__name__)
# What a write meets when its connection was deleted a moment ago (Disconnect, Delete): a row gone, a foreign key
# refused, or on PostgreSQL the deadlock it broke by ending the job's transaction. The job just stops.
GONE_MEANWHILE = (ObjectDeletedError, StaleDataError, IntegrityError, OperationalError)
COALESCE_SECONDS = 60  # a "scheduled" mark outlives a lost job by at most this long
POLL_SECONDS = 0.25  # how often a job waiting for a connection asks again


@dataclass
class Lease:
    """A job's hold on its connection; `lost` is set once its heartbeat finds the lease gone to another."""

    connection_id: int
    life: timedelta
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    lost: threading.Event = field(default_factory=threading.Event)

    def fence(self, session: Session) -> None:
        """Before each commit of the job: the lease is still this job's (renewed in the same transaction, so
        nothing commits after another job took over, even between two heartbeats). A connection this very
        transaction deleted (a removal's end) took its lease with it: that commit goes through."""
        if not self.lost.is_set() and session.execute(sa.update(SyncLease).where(
                SyncLease.connection_id == self.connection_id, SyncLease.token == self.token)
                .values(expires_at=utcnow() + self.life)).rowcount:
            return
        if session.execute(sa.select(CalendarConnection.id).where(
                CalendarConnection.id == self.connection_id)).first() is None:
            return
        self.lost.set()
        raise Superseded(f"the lease on connection {self.connection_id} went to another job")


@contextmanager
def connection_lock(connection_id: int, wait: float | None = None) -> Iterator[Lease | None]:
    """The connection's lease for the block, or None if another job holds it beyond `wait` seconds (by default
    SYNC_LOCK_WAIT_SECONDS) or the connection is gone. A connection deleted while the block works ends the
    block quietly (the deletion cancelled its runs)."""
    config, engine = current_app.config, db.engine
    life = timedelta(seconds=config["SYNC_LOCK_SECONDS"])
    deadline = time.monotonic() + (config["SYNC_LOCK_WAIT_SECONDS"] if wait is None else wait)
    lease = Lease(connection_id, life)
    while not (taken := _take(engine, lease, life)):
        if taken is None or time.monotonic() >= deadline:
            yield None
            return
        time.sleep(POLL_SECONDS)
    done = threading.Event()
    threading.Thread(target=_keep_renewing, args=(engine, lease, done), daemon=True,
                     name=f"sync-lease-{connection_id}").start()
    session = db.session()
    event.listen(session, "before_commit", lease.fence)
    try:
        yield lease
    except Superseded:
        db.session.rollback()
        log.warning("connection %s: another job took over; this one stopped without writing", connection_id)
    except GONE_MEANWHILE:
        db.session.rollback()
        if not connection_gone(connection_id):
            raise
        log.info("connection %s was deleted while its job worked; the job stops", connection_id)
    finally:
        done.set()
        event.remove(session, "before_commit", lease.fence)
        _release(engine, lease)


def _take(engine: Engine, lease: Lease, life: timedelta) -> bool | None:
    """Insert the lease, or take over one that expired; False while another job's lease is alive, None when
    the connection is gone."""
    now = utcnow()
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(SyncLease).values(connection_id=lease.connection_id, token=lease.token,
                                              expires_at=now + life)
    upsert = insert.on_conflict_do_update(index_elements=["connection_id"], where=SyncLease.expires_at < now,
                                          set_={"token": insert.excluded.token,
                                                "expires_at": insert.excluded.expires_at})
    try:
        with engine.begin() as connection:  # RETURNING, not rowcount: psycopg reports no count for an upsert
            return connection.execute(upsert.returning(SyncLease.connection_id)).first() is not None
    except IntegrityError:  # the connection is gone: nothing to sync
        return None


def _keep_renewing(engine: Engine, lease: Lease, done: threading.Event) -> None:
    """The heartbeat: while the job lives its lease does too, however long a push of 100,000 items takes. A
    database busy for a moment costs nothing (the lease outlives it); a lease found gone ends the heartbeat."""
    while not done.wait(lease.life.total_seconds() / 3):
        try:
            with engine.begin() as connection:
                renewed = connection.execute(sa.update(SyncLease).where(
                    SyncLease.connection_id == lease.connection_id, SyncLease.token == lease.token)
                    .values(expires_at=utcnow() + lease.life)).rowcount
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


def pull_delay(connection_id: int) -> float:
    """Seconds before a new pull of the connection may start: its pulls start at most every PULL_SPACING_SECONDS,
    so a burst of notifications is one pull running and one waiting, whatever the burst's length."""
    last = get_redis().get(redis_key("pull-started", connection_id))
    spacing = current_app.config["PULL_SPACING_SECONDS"]
    return max(0.0, float(last) + spacing - time.time()) if last else 0.0


def pull_starting(connection_id: int) -> None:
    """A pull holds the connection and starts now: notifications from here on ask for the next one (no earlier:
    a job that found the connection busy and waits again keeps standing for every notification meanwhile)."""
    spacing = current_app.config["PULL_SPACING_SECONDS"]
    get_redis().pipeline(transaction=False).delete(redis_key("pull-scheduled", connection_id)).set(
        redis_key("pull-started", connection_id), time.time(), ex=max(1, int(2 * spacing))).execute()
