"""SQLite storage for the emulator (stdlib sqlite3, WAL, one connection per thread).

All writes go through `Store.tx()`, which holds a process-wide lock so that the
per-calendar change sequence (the basis of sync tokens) is strictly monotonic
and so that post-commit hooks (push notifications) run only after data is
durable.
"""
from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (email TEXT PRIMARY KEY, name TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS calendars (
    id TEXT PRIMARY KEY, summary TEXT NOT NULL, description TEXT, time_zone TEXT NOT NULL,
    owner_email TEXT, created_by_client TEXT, etag TEXT NOT NULL, change_seq INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS calendar_list (
    email TEXT NOT NULL, calendar_id TEXT NOT NULL, access_role TEXT NOT NULL, is_primary INTEGER NOT NULL,
    background_color TEXT, etag TEXT NOT NULL, PRIMARY KEY (email, calendar_id));
CREATE TABLE IF NOT EXISTS events (
    calendar_id TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, status TEXT NOT NULL,
    recurring_event_id TEXT, updated TEXT NOT NULL, data TEXT NOT NULL, start_ts REAL, end_ts REAL,
    recurring INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (calendar_id, id));
CREATE INDEX IF NOT EXISTS events_seq ON events (calendar_id, seq);
CREATE INDEX IF NOT EXISTS events_master ON events (calendar_id, recurring_event_id);
CREATE TABLE IF NOT EXISTS clients (
    client_id TEXT PRIMARY KEY, client_secret TEXT NOT NULL, name TEXT NOT NULL, redirect_uris TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS grants (
    id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL, client_id TEXT NOT NULL, scopes TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY, kind TEXT NOT NULL, grant_id INTEGER NOT NULL, scopes TEXT NOT NULL,
    expires_at REAL, revoked INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS tokens_grant ON tokens (grant_id);
CREATE TABLE IF NOT EXISTS auth_codes (code TEXT PRIMARY KEY, data TEXT NOT NULL, used INTEGER NOT NULL DEFAULT 0,
    expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS auth_requests (id TEXT PRIMARY KEY, data TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS channels (
    id TEXT PRIMARY KEY, resource_id TEXT NOT NULL, calendar_id TEXT NOT NULL, address TEXT NOT NULL,
    token TEXT, expiration_ms INTEGER, email TEXT NOT NULL, client_id TEXT, msg_num INTEGER NOT NULL DEFAULT 0,
    stopped INTEGER NOT NULL DEFAULT 0);
"""

RESETTABLE = ["accounts", "calendars", "calendar_list", "events", "clients", "grants", "tokens",
              "auth_codes", "auth_requests", "channels"]


class Store:
    """Thread-safe access to the emulator database."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        self.lock = threading.RLock()
        self._etag_last = 0
        self._etag_lock = threading.Lock()
        with self.lock:
            self.conn().executescript(SCHEMA)
            cols = {r[1] for r in self.conn().execute("PRAGMA table_info(events)")}
            for col, decl in (("start_ts", "REAL"), ("end_ts", "REAL"), ("recurring", "INTEGER NOT NULL DEFAULT 0")):
                if col not in cols:  # databases created by an older emulator version
                    self.conn().execute(f"ALTER TABLE events ADD COLUMN {col} {decl}")

    # -- connections -------------------------------------------------------
    def conn(self) -> sqlite3.Connection:
        c = getattr(self._local, "conn", None)
        if c is None:
            c = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            c.row_factory = sqlite3.Row
            c.execute("PRAGMA journal_mode=WAL")
            c.execute("PRAGMA synchronous=NORMAL")
            c.execute("PRAGMA busy_timeout=30000")
            self._local.conn = c
        return c

    @contextlib.contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction under the global lock; runs after-commit hooks on success."""
        with self.lock:
            c = self.conn()
            depth = getattr(self._local, "depth", 0)
            if depth == 0:
                self._local.hooks, self._local.hook_keys = [], set()
                c.execute("BEGIN IMMEDIATE")
            self._local.depth = depth + 1
            try:
                yield c
            except BaseException:
                self._local.depth = depth
                if depth == 0:
                    c.execute("ROLLBACK")
                    self._local.hooks, self._local.hook_keys = [], set()
                raise
            self._local.depth = depth
            if depth == 0:
                c.execute("COMMIT")
                hooks, self._local.hooks, self._local.hook_keys = self._local.hooks, [], set()
                for h in hooks:
                    h()

    def after_commit(self, fn: Callable[[], None], key: Hashable | None = None) -> None:
        """Register fn to run once the current transaction has committed. A `key` already registered in
        this transaction is skipped, so a bulk write runs its per-calendar hook once, not once per row."""
        if getattr(self._local, "depth", 0):
            if key is not None:
                if key in self._local.hook_keys:
                    return
                self._local.hook_keys.add(key)
            self._local.hooks.append(fn)
        else:
            fn()

    def q(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self.conn().execute(sql, args).fetchall()

    def q1(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Row | None:
        return self.conn().execute(sql, args).fetchone()

    # -- helpers -----------------------------------------------------------
    def new_etag(self) -> str:
        """A strictly increasing quoted number, like Google's event etags."""
        with self._etag_lock:
            v = max(int(time.time() * 1_000_000) * 10, self._etag_last + 1)
            self._etag_last = v
        return '"%d"' % v

    def kv_get(self, key: str, default: Any = None) -> Any:
        r = self.q1("SELECT value FROM kv WHERE key=?", (key,))
        return json.loads(r["value"]) if r else default

    def kv_set(self, key: str, value: Any) -> None:
        with self.tx() as c:
            c.execute("INSERT OR REPLACE INTO kv(key, value) VALUES (?, ?)", (key, json.dumps(value)))

    def reset(self) -> None:
        with self.tx() as c:
            for t in RESETTABLE:
                c.execute(f"DELETE FROM {t}")
            self.kv_set("sync_epoch", int(time.time() * 1000))  # nested: same transaction as the deletes

    def bump_calendar_seq(self, c: sqlite3.Connection, calendar_id: str) -> int:
        c.execute("UPDATE calendars SET change_seq = change_seq + 1 WHERE id=?", (calendar_id,))
        return c.execute("SELECT change_seq FROM calendars WHERE id=?", (calendar_id,)).fetchone()[0]
