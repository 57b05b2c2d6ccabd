"""Google connections and the bookkeeping that makes sync exact.

`EventLink` ties one portal item to one Google event for one connection; its etag and
content hash are what echo suppression compares. `PendingPush` is the durable outbox:
a row per (connection, item) that changed, so a burst of edits coalesces into one push.
"""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .core import Company, User, utcnow

MAX_STORED_ERRORS = 50  # a run keeps its first failures' notes; the items' markers keep them all
GOOGLE_ID_LENGTH = 2048  # Google allows event ids of 1,024 characters; a recurring instance's adds its time


class ConnectionKind(str, enum.Enum):
    TWO_WAY = "two_way"
    ONE_WAY = "one_way"

    @property
    def label(self) -> str:
        return "2-WAY" if self is ConnectionKind.TWO_WAY else "1-WAY"


class ConnectionStatus(str, enum.Enum):
    NEEDS_PERMISSIONS = "needs_permissions"  # some of the three boxes were not ticked
    NEEDS_CALENDAR = "needs_calendar"  # signed in, no calendar chosen yet
    ACTIVE = "active"
    RECONNECT = "reconnect"  # refresh token revoked or expired: jobs stop until the user signs in again

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class RunKind(str, enum.Enum):
    PUSH_EXISTING = "push_existing"  # everything the user takes part in (the user's button)
    PUSH = "push"  # the outbox, after item changes
    PULL = "pull"  # Google's changes, when a notification announces them
    POLL = "poll"  # Google's changes, asked for by the safety net (`app.sync.polling`)
    SYNC = "sync"  # "Sync now": push what waits, then pull
    FULL_RESYNC = "full_resync"  # a pull Google answered with 410: everything listed again
    CHANGE_CALENDAR = "change_calendar"  # the portal's events move to another calendar (the user's Save)
    REMOVE_EVENTS = "remove_events"  # Delete with "remove the events": copies leave Google, then the connection

    __str__ = str.__str__  # logs show the value, as before the enum; what each kind does: `app.sync.kinds`


class RunStatus(str, enum.Enum):
    """queued → running → succeeded | failed | cancelled | interrupted, set only by `app.sync.runs`."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"  # its worker died; the work was resumed by a new run or job

    __str__ = str.__str__

    @property
    def finished(self) -> bool:
        return self not in (RunStatus.QUEUED, RunStatus.RUNNING)


def _values(enum_class: type[enum.Enum]) -> list[str]:
    """Store the lower-case values the column always held, not the member names."""
    return [member.value for member in enum_class]


class CalendarConnection(db.Model):
    __table_args__ = (sa.UniqueConstraint("user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(sa.ForeignKey("company.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ConnectionKind] = mapped_column(sa.Enum(ConnectionKind, native_enum=False, length=20))
    status: Mapped[ConnectionStatus] = mapped_column(
        sa.Enum(ConnectionStatus, native_enum=False, length=20), default=ConnectionStatus.NEEDS_CALENDAR
    )
    google_email: Mapped[str] = mapped_column(sa.String(254), default="")
    google_sub: Mapped[str] = mapped_column(sa.String(255), default="")
    # Fernet ciphertexts (see app.crypto); never stored in clear.
    access_token_enc: Mapped[str | None] = mapped_column(sa.Text)
    refresh_token_enc: Mapped[str | None] = mapped_column(sa.Text)
    token_expires_at: Mapped[datetime | None]
    granted_scopes: Mapped[str] = mapped_column(sa.Text, default="")
    # The OAuth client that obtained the grant ("My Portal App", or the company's own): grants are shared per
    # client and Google account (see `app.sync.connections.grant_to_revoke`). None: from before it was kept.
    client_id: Mapped[str | None] = mapped_column(sa.String(255))
    calendar_id: Mapped[str | None] = mapped_column(sa.String(255))
    calendar_summary: Mapped[str | None] = mapped_column(sa.String(255))
    sync_token: Mapped[str | None] = mapped_column(sa.Text)
    channel_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    channel_resource_id: Mapped[str | None] = mapped_column(sa.String(255))
    channel_token: Mapped[str | None] = mapped_column(sa.String(255))
    channel_expires_at: Mapped[datetime | None]
    last_synced_at: Mapped[datetime | None]
    # The connection's current problem as a code with parameters (`app.sync.notes`; words are rendered where
    # shown), and the technical text behind it for the admins' "details for support".
    problem: Mapped[str | None] = mapped_column(sa.String(40))
    problem_params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    problem_detail: Mapped[str | None] = mapped_column(sa.Text)
    # Why Google refused live updates (a code); None while a channel is live or untried.
    live_updates_problem: Mapped[str | None] = mapped_column(sa.String(40))
    # Google's use limits made the calendar read-only: writes wait until then (UTC).
    writes_paused_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The safety net (app.sync.polling): Google's last notification, the poll that caught the channel missing
    # a change (None: no such evidence), and when the next poll and the next channel renewal are due (not
    # indexed: the planner reads connections in batches by id, and an index would cost each sweep's write).
    last_notified_at: Mapped[datetime | None]
    channel_missed_at: Mapped[datetime | None]
    next_poll_at: Mapped[datetime | None]
    next_watch_at: Mapped[datetime | None]
    # "Check my Google calendars for conflicts" (app.busy): {calendar id: name} of the calendars whose busy times
    # count, None while off. Only busy intervals are read from them, through the free/busy permission.
    busy_calendars: Mapped[dict | None] = mapped_column(sa.JSON)

    user: Mapped[User] = relationship()
    company: Mapped[Company] = relationship()

    @property
    def scope_set(self) -> set[str]:
        return set(self.granted_scopes.split())

    @property
    def pulls(self) -> bool:
        return self.kind is ConnectionKind.TWO_WAY

    @property
    def can_sync(self) -> bool:
        return self.status is ConnectionStatus.ACTIVE and bool(self.calendar_id)

    @property
    def writes_paused(self) -> bool:
        """Google's use limits made the calendar read-only: writes wait until `writes_paused_until`."""
        return self.writes_paused_until is not None and self.writes_paused_until > utcnow()

    @classmethod
    def may_write(cls) -> sa.ColumnElement[bool]:
        """`not writes_paused` as SQL, for jobs that pick connections in bulk."""
        return sa.or_(cls.writes_paused_until.is_(None), cls.writes_paused_until <= utcnow())

    def forget_channel(self) -> None:
        """The watch channel is gone (or about to be): the next sync opens a new one."""
        self.channel_id = self.channel_resource_id = self.channel_token = self.channel_expires_at = None

    @classmethod
    def channel_healthy(cls, until: datetime) -> sa.ColumnElement[bool]:
        """A watch channel we trust to tell us about changes until `until`: live that long, never caught
        missing a change. Such connections are polled every few hours; the others every few minutes."""
        return sa.and_(cls.channel_id.is_not(None), cls.channel_missed_at.is_(None), cls.channel_expires_at > until)

    @classmethod
    def syncable(cls) -> sa.ColumnElement[bool]:
        """`can_sync` as SQL, for jobs that pick connections in bulk (calendar_id is never stored empty)."""
        return sa.and_(cls.status == ConnectionStatus.ACTIVE, cls.calendar_id.is_not(None))


class MailState(str, enum.Enum):
    """Where an incident's mail is: recorded before sending, claimed by one job, marked sent after."""

    PENDING = "pending"
    SENDING = "sending"  # a job claimed it (and may have died: `jobs.mail.SENDING_STALE`)
    RETRYING = "retrying"  # the mail server was away or busy: tried again at `mail_due_at`
    SENT = "sent"
    REFUSED = "refused"  # for good: the admin sees why
    OFF = "off"  # not sent: its person turned these mails off, or their role no longer has Integrations


class MailProblem(str, enum.Enum):
    """Why an incident's mail has not gone (words: `app.settings.operations`)."""

    ADDRESS_INVALID = "address_invalid"
    REFUSED = "refused"
    DEFERRED = "deferred"
    UNREACHABLE = "unreachable"


class Incident(db.Model):
    """A time a person's sync needs them: from when it starts (their Google access revoked, a permission
    missing, their calendar gone, an admin disconnecting them) until its cause is gone. Every page shows it
    (`app.notices`), and ONE mail is sent for it, at most one reminder after three days (`jobs.mail`).

    `open_key` makes "one open incident per person, card and cause" a unique constraint on both databases
    (NULL once resolved). The mail's state is recorded before sending and claimed by one job at a time.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(sa.ForeignKey("company.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    connection_kind: Mapped[ConnectionKind] = mapped_column(sa.Enum(ConnectionKind, native_enum=False, length=20))
    code: Mapped[str] = mapped_column(sa.String(40))  # why (`app.sync.notes`)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    open_key: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    mail_state: Mapped[MailState] = mapped_column(sa.Enum(MailState, native_enum=False, length=20,
                                                          values_callable=_values), default=MailState.PENDING,
                                                  index=True)
    mail_attempts: Mapped[int] = mapped_column(default=0)
    mail_due_at: Mapped[datetime | None]
    mail_claimed_at: Mapped[datetime | None]
    mail_sent_at: Mapped[datetime | None]
    mail_problem: Mapped[MailProblem | None] = mapped_column(  # why it has not gone
        sa.Enum(MailProblem, native_enum=False, length=40, values_callable=_values))
    reminder_sent_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class SyncLease(db.Model):
    """Which job works on a connection right now: one at a time, across workers and machines (`jobs.locks`).

    In the database rather than in Redis alone, so a Redis that restarts empty (or fails over to a replica
    without the key) cannot let a second job in beside a running one. The running job renews `expires_at`
    (its heartbeat); a job whose lease expired and was taken by another stops without writing (its token no
    longer matches). Goes with its connection.
    """

    connection_id: Mapped[int] = mapped_column(sa.ForeignKey("calendar_connection.id", ondelete="CASCADE"),
                                               primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(32))
    expires_at: Mapped[datetime]


class EventLink(db.Model):
    __table_args__ = (
        sa.UniqueConstraint("connection_id", "item_type", "item_id"),
        sa.UniqueConstraint("connection_id", "google_event_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(sa.ForeignKey("company.id"), index=True)
    connection_id: Mapped[int] = mapped_column(sa.ForeignKey("calendar_connection.id", ondelete="CASCADE"))
    item_type: Mapped[str] = mapped_column(sa.String(20))
    item_id: Mapped[int]
    google_event_id: Mapped[str] = mapped_column(sa.String(255))
    etag: Mapped[str | None] = mapped_column(sa.String(64))
    # Hash of the event body as last agreed by both sides: equal hashes mean "no change".
    content_hash: Mapped[str | None] = mapped_column(sa.String(64))
    google_updated: Mapped[datetime | None]
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)


class GoogleEvent(db.Model):
    """A Google-native event (or one instance of a recurring one) shown in the portal calendar."""

    __table_args__ = (sa.UniqueConstraint("connection_id", "google_event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(sa.ForeignKey("company.id"), index=True)
    connection_id: Mapped[int] = mapped_column(
        sa.ForeignKey("calendar_connection.id", ondelete="CASCADE"), index=True
    )
    google_event_id: Mapped[str] = mapped_column(sa.String(GOOGLE_ID_LENGTH))
    recurring_event_id: Mapped[str | None] = mapped_column(sa.String(GOOGLE_ID_LENGTH))
    summary: Mapped[str] = mapped_column(sa.String(500), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    location: Mapped[str] = mapped_column(sa.String(500), default="")
    all_day: Mapped[bool] = mapped_column(default=False)
    start_at: Mapped[datetime | None] = mapped_column(index=True)
    end_at: Mapped[datetime | None]
    start_date: Mapped[date | None] = mapped_column(index=True)
    end_date: Mapped[date | None]  # inclusive, like portal items
    html_link: Mapped[str] = mapped_column(sa.String(500), default="")
    updated: Mapped[datetime | None]


class PendingPush(db.Model):
    __table_args__ = (sa.UniqueConstraint("connection_id", "item_type", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        sa.ForeignKey("calendar_connection.id", ondelete="CASCADE"), index=True
    )
    item_type: Mapped[str] = mapped_column(sa.String(20))
    item_id: Mapped[int]
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set after a transient failure: the row waits (backoff) until then; a new edit of the item clears it.
    not_before: Mapped[datetime | None]

    @classmethod
    def due(cls, now: datetime) -> sa.ColumnElement[bool]:
        """Rows a push may take now: never failed, or their backoff is over."""
        return sa.or_(cls.not_before.is_(None), cls.not_before <= now)


class FailureKind(str, enum.Enum):
    RETRYING = "retrying"  # Google was unavailable or busy: retried automatically, with backoff
    REFUSED = "refused"  # Google refused it, or it could not be converted: waits for Retry or the next edit
    NOT_SYNCED = "not_synced"  # deliberately kept out of Google (a task without a due date)


class SyncFailure(db.Model):
    """One item that is not (or not up to date) in one connection's Google calendar, and why, in plain words.

    Shown on the item's page and in the Integrations page's sync details; removed as soon as the item's
    push succeeds (or its Google copy is deleted), so it never describes the past.
    """

    __table_args__ = (sa.UniqueConstraint("connection_id", "item_type", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(sa.ForeignKey("company.id"), index=True)
    connection_id: Mapped[int] = mapped_column(
        sa.ForeignKey("calendar_connection.id", ondelete="CASCADE"), index=True
    )
    item_type: Mapped[str] = mapped_column(sa.String(20))
    item_id: Mapped[int]
    kind: Mapped[FailureKind] = mapped_column(sa.Enum(FailureKind, native_enum=False, length=20))
    code: Mapped[str] = mapped_column(sa.String(40))  # why, as a code with parameters (`app.sync.notes`)
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    detail: Mapped[str | None] = mapped_column(sa.String(500))  # Google's own words, for support
    attempts: Mapped[int] = mapped_column(default=1)
    failed_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def can_retry(self) -> bool:
        return self.kind is not FailureKind.NOT_SYNCED


class SyncRun(db.Model):
    """One push, pull or full resync, with the progress the Integrations page shows."""

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(sa.ForeignKey("company.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    connection_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("calendar_connection.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[RunKind] = mapped_column(sa.Enum(RunKind, native_enum=False, length=20, values_callable=_values))
    status: Mapped[RunStatus] = mapped_column(
        sa.Enum(RunStatus, native_enum=False, length=20, values_callable=_values), default=RunStatus.QUEUED)
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    deleted: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list] = mapped_column(sa.JSON, default=list)  # the items that failed, as notes
    # How it ended, as a code with parameters (`app.sync.notes`; words are rendered where shown), and the
    # technical text behind a failure for the admins' "details for support".
    outcome: Mapped[str | None] = mapped_column(sa.String(40))
    outcome_params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    detail: Mapped[str | None] = mapped_column(sa.Text)
    # Push Existing Data's window: only items from this day onward (None: all items).
    items_since: Mapped[date | None]
    # Where a calendar move goes: kept on the run, so its slices, a resumed run and a requeued job all know.
    calendar_id: Mapped[str | None] = mapped_column(sa.String(255))
    calendar_summary: Mapped[str | None] = mapped_column(sa.String(255))
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None] = mapped_column(index=True)  # old runs are pruned by it

    user: Mapped[User] = relationship()

    @property
    def finished(self) -> bool:
        return RunStatus(self.status).finished

    def count_failure(self, note: dict) -> None:
        """One item failed (a note: code and parameters, see `app.sync.notes`): counted, and the first
        MAX_STORED_ERRORS kept for the run's details."""
        self.failed += 1
        if len(self.errors) < MAX_STORED_ERRORS:
            self.errors = [*self.errors, note]

    @property
    def percent(self) -> int:
        if self.status == RunStatus.SUCCEEDED:
            return 100
        return int(100 * self.done / self.total) if self.total else 0

    def as_dict(self) -> dict:
        return {
            "id": self.id, "kind": self.kind, "status": self.status, "total": self.total,
            "done": self.done, "percent": self.percent, "created": self.created, "updated": self.updated,
            "deleted": self.deleted, "failed": self.failed, "finished": self.finished,
        }


class SyncHistory(db.Model):
    """What sync did to an item: pulled edits, conflicts (with the losing version), unlinks."""

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(sa.ForeignKey("company.id"), index=True)
    item_type: Mapped[str] = mapped_column(sa.String(20))
    item_id: Mapped[int]
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(sa.String(40))
    detail: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (sa.Index("ix_sync_history_item", "item_type", "item_id"),)
