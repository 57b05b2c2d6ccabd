"""Google down is cheap: while Google answers 5xx or cannot be reached, calls wait as a whole, not item by item.

Retrying each item, each with the client library's own retries, turned a 5-minute outage into 13 calls per
edited item. Instead two circuit breakers, shared in Redis by every process, stand before every call: one for
the project (our OAuth client) and one per Google user (one account's calendar backend can fail alone).
OPENS_AFTER transient failures in a row, with no answer from Google between, open a breaker: more than one
request's own attempts, so one item Google keeps answering 5xx never opens it alone (that item waits for its own
backoff, `app.sync.failures`); a second request failing too does. While a breaker is open, one call per
PROBE_SECONDS goes through as its probe; every other call is not sent (`GoogleDown`, carrying when to come back)
and its work waits in the queue, not in a worker. The first answer closes the breaker, and the waiting work
drains, paced by the request budget as always.

The project's breaker is asked first: during a general outage its probe is the only call anyone sends (a few a
minute), however many users' breakers are open too. Without Redis there is no breaker: calls go as before.
"""
from __future__ import annotations

import random
import time

from flask import current_app
from redis.exceptions import RedisError

from ..models import CalendarConnection
from ..queues import get_redis, redis_key
from .errors import GoogleDown

PROBE_SECONDS = 15  # while a breaker is open, one call this often finds out whether Google is back
OPENS_AFTER = 6  # failures in a row that open a breaker (the client makes up to 5 attempts of one request)
STREAK_SECONDS = 120  # a failure streak older than this is forgotten
OPEN_SECONDS = 600  # an open breaker nobody probes closes by itself (its next failures open it again)


def spread(wait_seconds: float) -> float:
    """A wait for the next probe, spread over two probe intervals: the waiting work does not return at once."""
    return wait_seconds + random.uniform(0, 2 * PROBE_SECONDS)


def google_user_of(connection: CalendarConnection) -> str:
    """The Google account a connection calls as (Google's per-user quota and breaker follow it)."""
    return connection.google_sub or connection.google_email or f"connection-{connection.id}"


class Outage:
    """The breakers one Google user's calls pass: the project's, then the user's."""

    def __init__(self, google_user: str):
        project = current_app.config["GOOGLE_CLIENT_ID"]
        self.scopes = [redis_key("google-outage", project, "project"),
                       redis_key("google-outage", project, "user", google_user)]
        self.redis = get_redis()

    def wait_seconds(self) -> float:
        """0 when a call may go now (no breaker open, or an open one's probe is free); else how long until the
        next probe is due. Takes nothing: a job asks before it starts work that would only meet `GoogleDown`."""
        try:
            opened = self._open()
            return max(0, self.redis.pttl(opened[0] + ":probe")) / 1000 if opened else 0
        except RedisError:
            return 0

    def is_open(self) -> bool:
        """Whether a breaker is open: the next call, if it goes at all, is a probe."""
        try:
            return bool(self._open())
        except RedisError:
            return False

    def _open(self) -> list[str]:
        """The open breakers' keys, the project's first (one round trip: every call asks)."""
        pipe = self.redis.pipeline(transaction=False)
        for key in self.scopes:
            pipe.exists(key + ":open")
        return [key for key, is_open in zip(self.scopes, pipe.execute(), strict=True) if is_open]

    def check(self) -> None:
        """Before a call: raise `GoogleDown` unless every breaker is closed or this call is the open one's probe."""
        try:
            for key in self._open():
                if self.redis.set(key + ":probe", int(time.time()), nx=True, px=PROBE_SECONDS * 1000):
                    return  # this call is the probe
                raise GoogleDown(spread(max(0, self.redis.pttl(key + ":probe")) / 1000))
        except RedisError:
            return

    def failed(self) -> bool:
        """A call found Google down (5xx, timeout, refused connection). Returns whether a breaker is open now."""
        try:
            pipe = self.redis.pipeline(transaction=False)
            for key in self.scopes:
                pipe.incr(key + ":streak").expire(key + ":streak", STREAK_SECONDS)
            streaks = pipe.execute()[::2]
            opened = [key for key, streak in zip(self.scopes, streaks, strict=True) if streak >= OPENS_AFTER]
            for key in opened:  # the next probe one interval from now
                self.redis.pipeline().set(key + ":open", int(time.time()), ex=OPEN_SECONDS).set(
                    key + ":probe", int(time.time()), px=PROBE_SECONDS * 1000).execute()
            if opened:
                current_app.logger.warning("Google unavailable: calls of %s wait for a probe", opened)
            return bool(opened)
        except RedisError:
            return False

    def answered(self) -> None:
        """Google answered (any answer but a 5xx): the streaks end and the breakers close."""
        try:
            self.redis.delete(*(key + suffix for key in self.scopes for suffix in (":streak", ":open")))
        except RedisError:
            pass


def google_wait(connection: CalendarConnection) -> float:
    """0 when the connection's work may call Google now; else the seconds (spread) its job waits in the queue
    first, so work that would only meet `GoogleDown` makes no run and no call."""
    wait = Outage(google_user_of(connection)).wait_seconds()
    return spread(wait) if wait else 0


def project_outage_open() -> bool:
    """Whether the project's breaker is open now (for `/metrics`)."""
    key = redis_key("google-outage", current_app.config["GOOGLE_CLIENT_ID"], "project")
    return bool(get_redis().exists(key + ":open"))
