"""What the engine records about a run, a connection or an item: a code with parameters, never words.

Pages render the words (`app.integrations.words`) where they are shown, in the viewer's time zone; the
technical text (Google's message, an exception) goes to the log and to a `detail` column that only the
admins' "details for support" shows. So nothing a user typed, and nothing Google wrote, can choose which
message a person reads: a title is at most a parameter that a fixed sentence quotes.
"""
from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..google import AuthRevoked, GoogleError, PermanentError, RateLimited, UsageLimited
from ..models import FailureKind

RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "dailyLimitExceeded"}


class Code(str, enum.Enum):
    # The connection needs its person.
    GRANT_REVOKED = "grant_revoked"
    PERMISSION_MISSING = "permission_missing"
    CALENDAR_GONE = "calendar_gone"
    ACCOUNT_SWITCHED = "account_switched"  # previous, current: the emails
    DISCONNECTED = "disconnected"  # an admin removed the person's connection
    # Passing: the sync goes on by itself.
    RATE_LIMITED = "rate_limited"
    USE_LIMIT = "use_limit"  # until: ISO time (UTC) when writes continue
    GOOGLE_UNAVAILABLE = "google_unavailable"
    GOOGLE_REFUSED = "google_refused"  # status, reason: Google's own reason token
    WORKERS_UNAVAILABLE = "workers_unavailable"
    UNEXPECTED = "unexpected"  # by_itself: whether the work is asked for again without anyone
    # How a run ended, when not by finishing its work.
    COMPLETE = "complete"
    PARTIAL = "partial"  # reached, waiting, refused, other: how many changes went through, and which did not
    INSTALMENTS = "instalments"  # left, at: how many items follow in daily instalments, and when the next
    NEEDS_ATTENTION = "needs_attention"
    CONNECTION_DELETED = "connection_deleted"
    BEING_DELETED = "being_deleted"
    INTERRUPTED = "interrupted"
    BULK_UNDER_WAY = "bulk_under_way"  # kind: the bulk run a request would wait behind
    # One item, or one Google event.
    ITEM_REFUSED = "item_refused"  # status, reason
    ITEM_UNCONVERTIBLE = "item_unconvertible"
    NO_DUE_DATE = "no_due_date"
    COPY_NOT_DELETED = "copy_not_deleted"  # status, reason
    EVENT_NOT_TAKEN_IN = "event_not_taken_in"  # title: the Google event's, quoted
    # Why live updates (a watch channel) are off.
    LIVE_UPDATES_NOT_HTTPS = "live_updates_not_https"
    LIVE_UPDATES_REFUSED = "live_updates_refused"
    LIVE_UPDATES_UNREACHABLE = "live_updates_unreachable"


@dataclass(frozen=True)
class Note:
    """A code and its parameters (JSON values only: they are stored as they are)."""

    code: Code
    params: Mapping = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"code": self.code.value, "params": dict(self.params)}

    @classmethod
    def load(cls, code: str | None, params: Mapping | None = None) -> Note | None:
        """From stored columns; a code this version no longer knows reads as an unexpected problem."""
        if not code:
            return None
        try:
            return cls(Code(code), params or {})
        except ValueError:
            return cls(Code.UNEXPECTED, {"by_itself": True})

    @classmethod
    def from_json(cls, value: Mapping) -> Note | None:
        return cls.load(value.get("code"), value.get("params"))


def google_problem(error: GoogleError) -> Note:
    """What a failed call means for the whole connection (a list, a watch, a calendar, a whole batch)."""
    if isinstance(error, AuthRevoked):
        return Note(Code.GRANT_REVOKED)
    if isinstance(error, UsageLimited):
        return Note(Code.USE_LIMIT)
    if isinstance(error, RateLimited) or error.status == 429 or error.reason in RATE_LIMIT_REASONS:
        return Note(Code.RATE_LIMITED)
    if error.reason == "insufficientPermissions":
        return Note(Code.PERMISSION_MISSING)
    if isinstance(error, PermanentError) and error.status in (404, 410):
        return Note(Code.CALENDAR_GONE)
    if isinstance(error, PermanentError) and error.status != 401:
        return Note(Code.GOOGLE_REFUSED, {"status": error.status, "reason": error.reason})
    return Note(Code.GOOGLE_UNAVAILABLE)


def item_problem(error: GoogleError) -> tuple[FailureKind, Note]:
    """(kind, note) for Google's answer to one item: a refusal, or a reason to try again later."""
    if error.reason in RATE_LIMIT_REASONS or error.status == 429:
        return FailureKind.RETRYING, Note(Code.RATE_LIMITED)
    if isinstance(error, PermanentError) and error.status != 401 and error.reason != "authError":
        return FailureKind.REFUSED, Note(Code.ITEM_REFUSED, {"status": error.status, "reason": error.reason})
    return FailureKind.RETRYING, Note(Code.GOOGLE_UNAVAILABLE)


def detail_of(error: BaseException) -> str:
    """The technical text kept for support: Google's status, reason and message, or the exception."""
    if isinstance(error, GoogleError):
        return f"{type(error).__name__} {error.status or '-'} {error.reason or '-'}: {error}"[:500]
    return f"{type(error).__name__}: {error}"[:500]
