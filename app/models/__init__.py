"""The data model. Every row belongs to exactly one company (tenant)."""
from .core import AuditLog, Company, Role, User, UserSession, utcnow
from .items import ITEM_MODELS, Appointment, Event, Task
from .sync import (
    CalendarConnection,
    ConnectionKind,
    ConnectionStatus,
    EventLink,
    FailureKind,
    GoogleEvent,
    Incident,
    MailProblem,
    MailState,
    PendingPush,
    RunKind,
    RunStatus,
    SyncFailure,
    SyncHistory,
    SyncLease,
    SyncRun,
)

__all__ = [
    "Appointment", "AuditLog", "CalendarConnection", "Company", "ConnectionKind", "ConnectionStatus", "Event",
    "EventLink", "FailureKind", "GoogleEvent", "Incident", "ITEM_MODELS", "MailProblem", "MailState", "PendingPush",
    "Role", "RunKind", "RunStatus", "SyncFailure", "SyncHistory", "SyncLease", "SyncRun", "Task", "User",
    "UserSession", "utcnow",
]
