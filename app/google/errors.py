"""Our own names for what can go wrong at Google."""
from __future__ import annotations

import json

from googleapiclient.errors import HttpError


class GoogleError(Exception):
    """Any failure talking to Google; `status` is the HTTP status when there was one."""

    def __init__(self, message: str, status: int | None = None, reason: str | None = None):
        super().__init__(message)
        self.status = status
        self.reason = reason


class AuthRevoked(GoogleError):
    """The refresh token is revoked or expired (`invalid_grant`): the user must reconnect."""


class SyncTokenExpired(GoogleError):
    """410 on a sync token: a full sync is required."""


class PermanentError(GoogleError):
    """A 4xx that retrying will not fix (bad request, not found, forbidden)."""


class TryLater(GoogleError):
    """Not the item's fault: send it again later. `wait_seconds` says when, where the client left the waiting to
    its caller (a bulk slice then waits in the queue, not in a worker)."""

    wait_seconds: float = 0


class RateLimited(TryLater):
    """403 `rateLimitExceeded`/`userRateLimitExceeded` or 429: the per-minute quota; wait and send again."""


class GoogleDown(TryLater):
    """Google is down for this call (an outage breaker is open and this call is not its probe): nothing was
    sent (`app.google.outage`)."""

    def __init__(self, wait_seconds: float):
        super().__init__("Google is unavailable; calls wait until it answers again.")
        self.wait_seconds = wait_seconds


class UsageLimited(GoogleError):
    """403 `quotaExceeded` ("Calendar usage limits exceeded."): the calendar is read-only for hours.

    Not the item's fault and not worth retrying soon: the connection's writes pause instead.
    """


RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
USAGE_LIMIT_REASONS = {"quotaExceeded"}


def error_reason(content: bytes | str | None) -> tuple[str | None, str]:
    """(errors[0].reason, message) from Google's error envelope, tolerant of anything else."""
    try:
        error = json.loads(content or b"{}").get("error", {})
    except (ValueError, AttributeError):
        return None, ""
    if not isinstance(error, dict):
        return None, str(error)
    errors = error.get("errors") or [{}]
    return errors[0].get("reason"), error.get("message", "")


def is_retryable(status: int, reason: str | None) -> bool:
    return status == 429 or status >= 500 or (status == 403 and reason in RATE_LIMIT_REASONS)


def from_http_error(exc: HttpError) -> GoogleError:
    status = int(exc.resp.status)
    reason, message = error_reason(exc.content)
    if status == 410 and reason == "fullSyncRequired":
        return SyncTokenExpired(message, status, reason)
    if status == 403 and reason in USAGE_LIMIT_REASONS:
        return UsageLimited(message or "Calendar usage limits exceeded.", status, reason)
    if status == 429 or (status == 403 and reason in RATE_LIMIT_REASONS):
        cls = RateLimited
    else:
        cls = GoogleError if is_retryable(status, reason) else PermanentError
    return cls(message or f"Google answered {status}", status, reason)
