"""The data model. Every row belongs to exactly one company (tenant)."""
from .core import AuditLog, Company, Role, User, utcnow
from .items import ITEM_MODELS, Appointment, Event, Task
from .sync import (
    CalendarConnection,
    ConnectionKind,
    ConnectionStatus,
    EventLink,
    GoogleEvent,
    PendingPush,
    RunKind,
    RunStatus,
    SyncHistory,
    SyncRun,
)

__all__ = [
    "Appointment", "AuditLog", "CalendarConnection", "Company", "ConnectionKind", "ConnectionStatus",
    "Event", "EventLink", "GoogleEvent", "ITEM_MODELS", "PendingPush", "Role", "RunKind", "RunStatus", "SyncHistory",
    "SyncRun", "Task", "User", "utcnow",
]
