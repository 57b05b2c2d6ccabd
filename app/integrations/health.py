"""Sync health in plain words: what the Integrations card and the admin's connections page show.

Everything here reads rows already loaded or a few grouped queries, so the pages stay cheap.
Items not in Google come from the sync engine's per-item markers (`app.sync.failures`).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from ..extensions import db
from ..models import CalendarConnection, PendingPush, RunKind, RunStatus, SyncFailure, SyncRun
from ..models.items import PortalItem
from ..sync.failures import failed_items

RUN_KINDS = {
    "push_existing": "Push Existing Data", "push": "Portal changes sent to Google",
    "pull": "Google changes received", "sync": "Sync now", "full_resync": "Full resync",
    "change_calendar": "Calendar changed", "remove_events": "Events removed from Google",
}
# The runs a card shows live progress for: those a person started and waits on, and the long full resync.
# An edit's push and a notification's or poll's pull take a second and happen all day unasked: they go to
# the history only, so they never take over the card, nor leave a finished bar where its steady state belongs.
PROGRESS_KINDS = (RunKind.PUSH_EXISTING, RunKind.SYNC, RunKind.FULL_RESYNC, RunKind.CHANGE_CALENDAR,
                  RunKind.REMOVE_EVENTS)
# What a bulk run is doing, said while the card's other actions wait for it.
BULK_UNDER_WAY = {"push_existing": "Your portal items are still being pushed to Google",
                  "change_calendar": "Your portal items are still moving to the new calendar",
                  "remove_events": "Your portal events are still being removed from Google"}
RUN_STATUSES = {"queued": "Waiting", "running": "In progress", "succeeded": "Done", "failed": "Failed",
                "cancelled": "Cancelled", "interrupted": "Interrupted"}
# (pattern in the technical text, what the user reads); the first match wins.
PLAIN_REASONS = (
    (r"revoked|invalid_grant|reconnect", "Google access was revoked or has expired. Reconnect to resume."),
    (r"rate ?limit|quota|429|usage limits", "Google asked us to slow down. The sync continues automatically."),
    (r"unreachable|timed? ?out|5\d\d|backend ?error|service unavailable",
     "Google could not be reached. The sync is retried automatically."),
    (r"workers? (are )?unavailable", "The background workers are unavailable. Please try again in a few minutes."),
    (r"forbidden|403|insufficient|permission", "Google refused: the account may not write to this calendar."),
    (r"not ?found|404|410|deleted", "The event no longer exists in Google."),
    (r"invalid|required|400|bad request", "Google refused the item's details (for example its dates or text)."),
)
TECHNICAL = re.compile(r"Traceback|\w+(Error|Exception)\b|[{}\[\]]|\bNone\b|#\d+|\d{4}-\d\d-\d\dT")


def plain_words(text: str | None) -> str:
    """A message users can read: known causes in words, anything technical replaced by a general line."""
    if not text:
        return ""
    for pattern, words in PLAIN_REASONS:
        if re.search(pattern, text, re.I):
            return words
    if TECHNICAL.search(text):
        return "An unexpected problem stopped the sync. It is retried automatically."
    return text


def run_kind_label(kind: str) -> str:
    return RUN_KINDS.get(kind, kind.replace("_", " ").capitalize())


def run_status_label(status: str) -> str:
    return RUN_STATUSES.get(status, status.replace("_", " ").capitalize())


@dataclass(frozen=True)
class RecentError:
    when: datetime | None
    what: str
    plain: str
    details: str


@dataclass
class Health:
    connection: CalendarConnection
    pending: int = 0
    not_in_google: list[tuple[SyncFailure, PortalItem]] = field(default_factory=list)
    recent_errors: list[RecentError] = field(default_factory=list)

    @property
    def last_success(self) -> datetime | None:
        return self.connection.last_synced_at

    @property
    def good(self) -> bool:
        return not (self.not_in_google or self.recent_errors or self.connection.last_error)


def recent_runs(connections: Sequence[CalendarConnection], limit: int = 10) -> list[SyncRun]:
    """The latest runs of these connections, newest first (one query)."""
    if not connections:
        return []
    return list(db.session.scalars(sa.select(SyncRun).where(
        SyncRun.connection_id.in_([c.id for c in connections])).order_by(SyncRun.id.desc()).limit(limit)))


def active_runs(user_id: int) -> dict[int, SyncRun]:
    """The run each of the user's cards shows progress for: its oldest unfinished one of PROGRESS_KINDS (one query).

    Not read from the recent runs: a Push Existing Data can run for hours while the user's edits are pushed
    beside it, each with a run of its own, and its card keeps showing its progress.
    """
    found: dict[int, SyncRun] = {}
    for run in db.session.scalars(sa.select(SyncRun).where(
            SyncRun.user_id == user_id, SyncRun.connection_id.is_not(None),
            SyncRun.kind.in_(PROGRESS_KINDS),
            SyncRun.status.in_((RunStatus.QUEUED, RunStatus.RUNNING))).order_by(SyncRun.id)):
        found.setdefault(run.connection_id, run)
    return found


def support_details(text: str, raw: bool) -> str:
    """What "Details for support" shows: Google's own words; program errors only to admins (`raw`)."""
    if raw or not TECHNICAL.search(text or ""):
        return text
    return "An internal error; the full message is in the server log at the time shown."


def health_of(connections: Sequence[CalendarConnection], runs: Iterable[SyncRun],
              raw: bool = False) -> dict[int, Health]:
    """Health per connection id, from `runs` (newest first) and two or three grouped queries.

    `raw` (the admins' view) keeps program error text in the details; users get plain words only.
    """
    health = {c.id: Health(c) for c in connections}
    if not health:
        return health
    health_ids = list(health)
    for connection_id, count in db.session.execute(sa.select(PendingPush.connection_id, sa.func.count()).where(
            PendingPush.connection_id.in_(health_ids)).group_by(PendingPush.connection_id)):
        health[connection_id].pending = count
    for connection_id, failed in failed_items([h.connection for h in health.values()]).items():
        health[connection_id].not_in_google = failed
    for run in runs:
        if (run.connection_id in health and run.status == "failed"
                and len(health[run.connection_id].recent_errors) < 3):
            health[run.connection_id].recent_errors.append(
                RecentError(run.finished_at or run.queued_at, run_kind_label(run.kind), plain_words(run.message),
                            support_details(run.message, raw)))
    return health


def run_counts(run: SyncRun) -> str:
    """"3 created · 1 failed": what a run did, in words ("—" while nothing is known yet)."""
    parts = [f"{count} {label}" for count, label in ((run.created, "created"), (run.updated, "updated"),
                                                      (run.deleted, "removed"), (run.failed, "failed")) if count]
    return " · ".join(parts) or ("No changes" if run.finished else "—")


def run_for_page(run: SyncRun) -> dict:
    """The run as the page's script reads it: numbers plus the same words the page renders."""
    return {**run.as_dict(), "errors": [], "kind_label": run_kind_label(run.kind),
            "status_label": run_status_label(run.status), "counts_text": run_counts(run),
            "message": plain_words(run.message) if run.status == "failed" else run.message}
