"""Request budgets shared by every worker and process: Google's per-user and per-project per-minute quotas.

Google counts requests over a sliding one-minute window (every call inside a batch counts) and answers
403 `userRateLimitExceeded`/`rateLimitExceeded` or 429 beyond it. Bouncing off that limit wastes calls
and time, so every Calendar call takes its cost from two sliding-window counters in Redis (the Google
user's and the project's) BEFORE it is sent, and waits while either window is full. One Lua script
checks and takes both windows atomically on Redis's own clock, so workers on several machines share
one budget without clock skew.

Each window is a sorted set of grants (`<ms>:<nonce>:<cost>` scored by the grant time) plus the running
total of its costs, so checking is amortised O(expired grants), not O(calls in the window).

The same module counts event creations per Google user and day: Google makes a calendar read-only for
hours after ~100,000 creations in a short period, and Push Existing Data stays under a ceiling of ours.

Bulk work paces itself to the project's window and so keeps it full; a person's edit would then wait up to a
minute for room. Bulk work therefore counts the project's window as smaller by `Limits.bulk_reserve`
(`RequestBudget.leaving_reserve`): the rest of the window is always there for interactive work.
"""
from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from redis import Redis
from redis.exceptions import RedisError

from ..queues import get_redis, redis_key
from .errors import RateLimited

# KEYS: user grants, user total, project grants, project total.
# ARGV: cost, user limit, project limit, window ms, nonce, and "1" to only look (take nothing).
# Returns 0 when the cost was taken, otherwise the milliseconds to wait before asking again; when only looking,
# {calls that fit in both windows now, the milliseconds to wait before `cost` would}.
TAKE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cost, window = tonumber(ARGV[1]), tonumber(ARGV[4])
local limits = {tonumber(ARGV[2]), tonumber(ARGV[3])}
local wait = 0
local free = math.huge
for i = 0, 1 do
  local grants, total = KEYS[2 * i + 1], KEYS[2 * i + 2]
  local expired = redis.call('ZRANGEBYSCORE', grants, '-inf', now - window)
  if #expired > 0 then
    local freed = 0
    for _, member in ipairs(expired) do freed = freed + tonumber(string.match(member, ':(%d+)$')) end
    redis.call('ZREMRANGEBYSCORE', grants, '-inf', now - window)
    redis.call('DECRBY', total, freed)
  end
  local used = tonumber(redis.call('GET', total) or '0')
  free = math.min(free, limits[i + 1] - used)
  local excess = used + cost - limits[i + 1]
  if excess > 0 then
    -- the oldest grants leave the window first: wait until enough of them have left
    local oldest = redis.call('ZRANGE', grants, 0, -1, 'WITHSCORES')
    for j = 1, #oldest, 2 do
      excess = excess - tonumber(string.match(oldest[j], ':(%d+)$'))
      if excess <= 0 then
        wait = math.max(wait, tonumber(oldest[j + 1]) + window - now + 1)
        break
      end
    end
  end
end
if ARGV[6] == '1' then return {math.max(0, free), wait} end
if wait > 0 then return wait end
for i = 0, 1 do
  redis.call('ZADD', KEYS[2 * i + 1], now, now .. ':' .. ARGV[5] .. ':' .. cost)
  redis.call('INCRBY', KEYS[2 * i + 2], cost)
  redis.call('PEXPIRE', KEYS[2 * i + 1], window * 2)
  redis.call('PEXPIRE', KEYS[2 * i + 2], window * 2)
end
return 0
"""


@dataclass(frozen=True)
class Limits:
    per_user: int
    per_project: int
    window_seconds: float
    bulk_reserve: float = 0.0  # share of the project's window bulk work leaves to interactive work

    @property
    def bulk_per_project(self) -> int:
        """The project's window as bulk work counts it."""
        return max(1, int(self.per_project * (1 - self.bulk_reserve)))

    @property
    def largest_cost(self) -> int:
        """The most one request may cost: a batch larger than this is split (it could never be granted)."""
        return max(1, min(self.per_user, self.bulk_per_project))


def configured_limits() -> Limits:
    config = current_app.config
    return Limits(config["GOOGLE_QUOTA_PER_USER_PER_MINUTE"], config["GOOGLE_QUOTA_PER_PROJECT_PER_MINUTE"],
                  config["GOOGLE_QUOTA_WINDOW_SECONDS"], config["GOOGLE_QUOTA_BULK_RESERVE"])


class RequestBudget:
    """The two windows one Google user's calls are paced by (theirs and the project's)."""

    def __init__(self, redis: Redis, user_key: str, project_key: str, limits: Limits, margin_seconds: float):
        self.redis = redis
        self.keys = [user_key, user_key + ":total", project_key, project_key + ":total"]
        self.limits = limits
        self.project_limit = limits.per_project  # the whole window; less inside `leaving_reserve`
        # Google stamps a call when it arrives, we when we send it; the margin covers the difference.
        self.window_ms = int((limits.window_seconds + margin_seconds) * 1000)
        self._take = redis.register_script(TAKE_SCRIPT)

    @contextmanager
    def leaving_reserve(self) -> Iterator[None]:
        """Inside this block (bulk work: a slice sizing a chunk and sending it) `room` and `take` count the
        project's window as `1 − bulk_reserve` of it. Bulk work paces itself to the project's window and would
        keep it full, so a person's edit, which takes from the whole window, would wait up to a minute for room;
        with the reserve it finds room at once, and bulk work loses only that share of its speed."""
        self.project_limit = self.limits.bulk_per_project
        try:
            yield
        finally:
            self.project_limit = self.limits.per_project

    def room(self, cost: int) -> tuple[int, float]:
        """(calls that fit in both windows now, seconds until `cost` would), taking nothing: work that can wait
        in a queue (a slice of Push Existing Data) sizes itself by it instead of waiting in a worker."""
        cost = min(max(1, cost), self.limits.largest_cost)
        try:
            free, wait_ms = self._take(keys=self.keys, args=[
                cost, self.limits.per_user, self.project_limit, self.window_ms, "", "1"])
        except RedisError:
            return cost, 0.0  # no shared budget without Redis: `take` lets the calls go
        return int(free), int(wait_ms) / 1000

    def take(self, cost: int, max_wait_seconds: float | None = None) -> None:
        """Block until `cost` calls fit in both windows, then count them as sent.

        With `max_wait_seconds` (a person is waiting for a page), raise RateLimited rather than wait longer.
        """
        cost = min(max(1, cost), self.limits.largest_cost)
        deadline = None if max_wait_seconds is None else time.monotonic() + max_wait_seconds
        while True:
            try:
                wait_ms = int(self._take(keys=self.keys, args=[
                    cost, self.limits.per_user, self.project_limit, self.window_ms, secrets.token_hex(4)]))
            except RedisError:
                # No shared budget without Redis (nor any job): let the call go; backoff absorbs a rate limit.
                current_app.logger.warning("request budget unavailable (Redis); sending unpaced")
                return
            if not wait_ms:
                return
            if deadline is not None and time.monotonic() + wait_ms / 1000 > deadline:
                raise RateLimited("Google's request quota for this account is in use by a sync right now. "
                                  "Please try again in a minute.")
            time.sleep(wait_ms / 1000)


def budget_for(google_user: str) -> RequestBudget:
    """The budget of one Google user of our OAuth client (Google's quotas are per user per project)."""
    project = current_app.config["GOOGLE_CLIENT_ID"]
    return RequestBudget(get_redis(), redis_key("google-budget", project, "user", google_user),
                         redis_key("google-budget", project, "project"), configured_limits(),
                         current_app.config["GOOGLE_QUOTA_MARGIN_SECONDS"])


def project_window_used() -> float:
    """Share of the project's per-minute quota taken in the current window (1: every call now waits); a probe
    whose own window is as large as the project's, so the project's alone bounds what it sees."""
    limits = configured_limits()
    probe = Limits(limits.per_project, limits.per_project, limits.window_seconds)
    project = current_app.config["GOOGLE_CLIENT_ID"]
    budget = RequestBudget(get_redis(), redis_key("google-budget", project, "probe"),
                           redis_key("google-budget", project, "project"), probe,
                           current_app.config["GOOGLE_QUOTA_MARGIN_SECONDS"])
    free, _ = budget.room(1)
    return round(1 - min(free, limits.per_project) / limits.per_project, 4)


def _creations_key(google_user: str, day: datetime) -> str:
    return redis_key("google-creations", google_user, day.strftime("%Y-%m-%d"))


def note_creations(google_user: str, count: int) -> None:
    """Count events created in the Google user's calendars today (UTC), for Push Existing Data's ceiling."""
    if count:
        key = _creations_key(google_user, datetime.now(UTC))
        try:
            get_redis().pipeline().incrby(key, count).expire(key, 2 * 86400).execute()
        except RedisError:  # a Redis restart must not fail the push: the count is a soft ceiling
            current_app.logger.warning("could not count %s event creations (Redis unavailable)", count)


def creations_today(google_user: str) -> int:
    """Events created today; 0 while Redis is away (the push goes on; Google's use limit still pauses it)."""
    try:
        return int(get_redis().get(_creations_key(google_user, datetime.now(UTC))) or 0)
    except RedisError:
        current_app.logger.warning("event creations of today unknown (Redis unavailable)")
        return 0
