"""Google's limits, enforced by default: per-minute request quotas and Calendar use limits.

- Quotas [Google: guides/quota]: 600 requests per minute per user and 10,000 per minute per project,
  over a sliding window; every call inside a batch counts. Over either, Google answers 403
  usageLimits `userRateLimitExceeded` (user) or `rateLimitExceeded` (project), and sometimes 429
  `rateLimitExceeded`: a configurable share of the refusals comes back as 429, deterministically.
  A refused call does not use up quota, so a client that backs off gets through.
- Use limits [Workspace help "Avoid Calendar use limits"]: creating more than ~100,000 events or 60
  calendars in a short period makes the user's calendar read-only for hours; every write then answers
  403 usageLimits `quotaExceeded` "Calendar usage limits exceeded." Retrying soon does not help.

The numbers come from the emulator's flags and can be changed by the admin controls (tests, benches);
the admin reset restores the start values and forgets every window and read-only period.
"""
from __future__ import annotations

import collections
import dataclasses
import threading
import time
from dataclasses import dataclass

from . import errors as E


@dataclass
class LimitSettings:
    """Start values are Google's; `0` for a quota or a use limit means "not enforced"."""

    per_user_per_minute: int = 600
    per_project_per_minute: int = 10_000
    quota_window_seconds: float = 60
    """The sliding window the per-minute quotas count over (tests shorten it to watch it slide)."""
    share_429: float = 0.25
    event_creations: int = 100_000
    calendar_creations: int = 60
    use_limit_period_seconds: float = 86_400
    read_only_seconds: float = 3 * 3600
    allow_http_webhooks: bool = False

    def updated(self, changes: dict) -> LimitSettings:
        """A copy with `changes` applied; unknown names or bad values raise ValueError."""
        fields = {f.name: f.type for f in dataclasses.fields(self)}
        out = dataclasses.replace(self)
        for name, value in changes.items():
            if name not in fields:
                raise ValueError(f"unknown limit {name}")
            kind = {"int": int, "float": float, "bool": bool}[str(fields[name])]
            if kind is bool:
                if not isinstance(value, bool):
                    raise ValueError(f"{name} must be true or false")
                setattr(out, name, value)
                continue
            number = kind(value)
            if number < 0 or (name == "share_429" and number > 1):
                raise ValueError(f"{name} out of range")
            setattr(out, name, number)
        return out


def rate_limited(reason: str, as_429: bool) -> E.ApiError:
    if as_429:
        return E.ApiError(429, "rateLimitExceeded", "Rate Limit Exceeded", domain="usageLimits")
    return E.ApiError(403, reason, "Rate Limit Exceeded", domain="usageLimits")


def use_limit_exceeded() -> E.ApiError:
    return E.ApiError(403, "quotaExceeded", "Calendar usage limits exceeded.", domain="usageLimits")


class SlidingWindows:
    """Timestamps of admitted events per key over the last `period` seconds."""

    def __init__(self) -> None:
        self.windows: dict[object, collections.deque[float]] = {}

    def count(self, key: object, now: float, period: float) -> int:
        dq = self.windows.get(key)
        if dq is None:
            return 0
        while dq and dq[0] <= now - period:
            dq.popleft()
        return len(dq)

    def add(self, key: object, now: float) -> None:
        self.windows.setdefault(key, collections.deque()).append(now)


class Limits:
    """Quota windows and use-limit state of one emulator process (thread-safe)."""

    def __init__(self, startup: LimitSettings) -> None:
        self.startup = startup
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.settings = dataclasses.replace(self.startup)
            self.requests = SlidingWindows()
            self.creations = SlidingWindows()
            self.read_only_until: dict[str, float] = {}
            self.refusals = 0

    def change(self, changes: dict) -> LimitSettings:
        """Apply admin changes; a quota change starts its windows afresh."""
        with self.lock:
            self.settings = self.settings.updated(changes)
            if {"per_user_per_minute", "per_project_per_minute", "quota_window_seconds"} & changes.keys():
                self.requests = SlidingWindows()
            return self.settings

    def admit_request(self, email: str, project: str) -> None:
        """Count one API call against the user's and the project's minute, or refuse it as Google does."""
        s = self.settings
        now = time.monotonic()
        with self.lock:
            for key, limit, reason in (((project, email), s.per_user_per_minute, "userRateLimitExceeded"),
                                       (project, s.per_project_per_minute, "rateLimitExceeded")):
                if limit and self.requests.count(key, now, s.quota_window_seconds) >= limit:
                    self.refusals += 1
                    as_429 = int(self.refusals * s.share_429) > int((self.refusals - 1) * s.share_429)
                    raise rate_limited(reason, as_429)
            self.requests.add((project, email), now)
            self.requests.add(project, now)

    def check_write(self, email: str, creates: str | None) -> None:
        """Refuse a write while the user's calendar is read-only; a creation over the use limit starts
        the read-only period (`creates` is "event" or "calendar" for insert calls)."""
        s = self.settings
        now = time.monotonic()
        with self.lock:
            if self.read_only_until.get(email, 0) > now:
                raise use_limit_exceeded()
            limit = {"event": s.event_creations, "calendar": s.calendar_creations}.get(creates or "", 0)
            if limit and self.creations.count((creates, email), now, s.use_limit_period_seconds) >= limit:
                self.read_only_until[email] = now + s.read_only_seconds
                raise use_limit_exceeded()

    def record_creation(self, email: str, creates: str) -> None:
        with self.lock:
            self.creations.add((creates, email), time.monotonic())

    def snapshot(self) -> dict:
        now = time.monotonic()
        with self.lock:
            read_only = {email: round(until - now, 1) for email, until in self.read_only_until.items() if until > now}
            return {**dataclasses.asdict(self.settings), "read_only_seconds_left": read_only}
