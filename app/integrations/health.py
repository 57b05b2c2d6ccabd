"""Sync health in plain words: what the Integrations card and the admin's connections page show.

Everything here reads rows already loaded or a few grouped queries, so the pages stay cheap.
Items not in Google come from the sync engine's per-item markers (`app.sync.failures`); every sentence
comes from a code (`app.integrations.words`).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from ..extensions import db
from ..models import (
    CalendarConnection,
    EventLink,
    FailureKind,
    GoogleEvent,
    PendingPush,
    RunKind,
    RunStatus,
    SyncFailure,
    SyncRun,
)
from ..models.items import PortalItem
from ..sync.failures import failed_items
from ..sync.kinds import PROGRESS_KINDS, RUN_KINDS
from ..sync.notes import Code, Note
from .words import count_of, run_words, say

RUN_ONLY_PROBLEMS = (Code.EVENT_NOT_TAKEN_IN, Code.COPY_NOT_DELETED)

RUN_STATUSES = {RunStatus.QUEUED: "Waiting", RunStatus.RUNNING: "In progress", RunStatus.SUCCEEDED: "Done",
                RunStatus.FAILED: "Failed", RunStatus.CANCELLED: "Cancelled", RunStatus.INTERRUPTED: "Interrupted"}


def run_kind_label(kind: RunKind) -> str:
    return RUN_KINDS[RunKind(kind)].label


def run_says_more(run: SyncRun) -> bool:
    """Whether the history shows the run's words under its status: it failed, or not every item went through."""
    return run.status == RunStatus.FAILED or run.outcome == Code.PARTIAL


def run_status_label(run: SyncRun) -> str:
    """A run that did its work but not for every item is not simply "Done"."""
    if run.status == RunStatus.SUCCEEDED and run.outcome == Code.PARTIAL:
        return "Partly done"
    return RUN_STATUSES[RunStatus(run.status)]


@dataclass(frozen=True)
class RecentError:
    when: datetime | None
    what: str
    plain: str
    details: str | None  # the technical text, for admins only


@dataclass
class Health:
    connection: CalendarConnection
    pending: int = 0
    not_in_google: list[tuple[SyncFailure, PortalItem]] = field(default_factory=list)
    recent_errors: list[RecentError] = field(default_factory=list)
    last_run_problems: list[str] = field(default_factory=list)  # what no item's marker says (see below)

    @property
    def last_success(self) -> datetime | None:
        return self.connection.last_synced_at

    @property
    def good(self) -> bool:
        """Nothing needs a look: a task without a due date is kept out of Google on purpose (its line says so)."""
        needing_a_look = [failure for failure, _ in self.not_in_google if failure.kind is not FailureKind.NOT_SYNCED]
        return not (needing_a_look or self.recent_errors or self.last_run_problems or self.connection.problem)


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
            SyncRun.kind.in_(list(PROGRESS_KINDS)),
            SyncRun.status.in_((RunStatus.QUEUED, RunStatus.RUNNING))).order_by(SyncRun.id)):
        found.setdefault(run.connection_id, run)
    return found


def health_of(connections: Sequence[CalendarConnection], runs: Iterable[SyncRun], tz: str = "UTC",
              raw: bool = False) -> dict[int, Health]:
    """Health per connection id, from `runs` (newest first) and two or three grouped queries.

    `raw` (the admins' view) adds the technical details for support; users get the words only.
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
    latest: set[int] = set()
    for run in runs:
        if run.connection_id not in health:
            continue
        if run.finished and run.connection_id not in latest:
            latest.add(run.connection_id)
            health[run.connection_id].last_run_problems = _run_problems(run)
        if run.status == RunStatus.FAILED and len(health[run.connection_id].recent_errors) < 3:
            health[run.connection_id].recent_errors.append(
                RecentError(run.finished_at or run.queued_at, run_kind_label(run.kind), run_words(run, tz),
                            run.detail if raw else None))
    return health


def _run_problems(run: SyncRun) -> list[str]:
    """What the run could not do that no item's "Not in Google" marker says: Google events it could not take
    in, Google copies it could not delete. Shown until the next run ends."""
    notes = (Note.from_json(entry) for entry in run.errors if isinstance(entry, dict))
    return [say(note) for note in notes if note is not None and note.code in RUN_ONLY_PROBLEMS]


def connection_counts(connection_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """(portal items in Google, Google events shown in the portal) per connection: two grouped queries."""
    counts = {connection_id: [0, 0] for connection_id in connection_ids}
    for n, model in enumerate((EventLink, GoogleEvent)):
        for connection_id, count in db.session.execute(sa.select(model.connection_id, sa.func.count()).where(
                model.connection_id.in_(list(counts))).group_by(model.connection_id)) if counts else ():
            counts[connection_id][n] = count
    return {connection_id: (pushed, shown) for connection_id, (pushed, shown) in counts.items()}


def counts_line(connection: CalendarConnection, pushed: int, shown: int) -> str:
    """What a card says it holds: "8 portal items in Google · 3 Google events shown in your portal calendar"."""
    line = f"{count_of(pushed, 'portal item')} in Google"
    return line + (f" · {count_of(shown, 'Google event')} shown in your portal calendar" if connection.pulls else "")


@dataclass(frozen=True)
class HistoryRow:
    run: SyncRun  # the newest of the row
    repeats: int = 1  # runs of the same kind in a row that changed nothing, folded into this line


def changed_nothing(run: SyncRun) -> bool:
    return (run.status == RunStatus.SUCCEEDED and run.outcome == Code.COMPLETE
            and not (run.created or run.updated or run.deleted or run.failed))


def history_rows(runs: Sequence[SyncRun], length: int) -> list[HistoryRow]:
    """The history's lines, newest first: runs of one kind in a row that changed nothing are one line (each push
    is followed by a pull of its own echo, and the safety net polls all day)."""
    rows: list[HistoryRow] = []
    for run in runs:
        last = rows[-1] if rows else None
        if last and changed_nothing(run) and changed_nothing(last.run) and run_kind_label(run.kind) == \
                run_kind_label(last.run.kind):
            rows[-1] = HistoryRow(last.run, last.repeats + 1)
        elif len(rows) < length:
            rows.append(HistoryRow(run))
        else:
            break
    return rows


def run_counts(run: SyncRun) -> str:
    """"3 created · 1 failed": what a run did, in words ("—" while nothing is known yet)."""
    parts = [f"{count} {label}" for count, label in ((run.created, "created"), (run.updated, "updated"),
                                                      (run.deleted, "removed"), (run.failed, "failed")) if count]
    return " · ".join(parts) or ("No changes" if run.finished else "—")


def run_for_page(run: SyncRun, tz: str) -> dict:
    """The run as the page's script reads it: numbers plus the same words the page renders; once it has ended,
    what its card now holds, so the card is current without a reload."""
    card = {}
    connection = db.session.get(CalendarConnection, run.connection_id) if run.finished and run.connection_id else None
    if connection is not None:  # not once a removal deleted it (the page reloads then)
        pushed, shown = connection_counts([connection.id])[connection.id]
        card = {"card_counts": counts_line(connection, pushed, shown), "pushed_events": count_of(pushed, "event")}
    return {**run.as_dict(), **card, "kind_label": run_kind_label(run.kind), "status_label": run_status_label(run),
            "complete": run.status == RunStatus.SUCCEEDED and run.outcome != Code.PARTIAL,
            "counts_text": run_counts(run), "message": run_words(run, tz),
            "reloads_card": RUN_KINDS[run.kind].reloads_card}
