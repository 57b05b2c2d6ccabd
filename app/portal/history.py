"""An item's sync history in words: what the sync engine did to it, newest first.

The engine writes `SyncHistory` rows with a free-form `detail` dict; we phrase the common
shapes ("changes": {field: [old, new]}, "lost": {the other version}) and put anything else in
plain "name: value" lines, with times in the viewer's zone: users never see JSON or ISO stamps.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import sqlalchemy as sa

from ..extensions import db
from ..models import SyncHistory, User
from ..models.items import PortalItem
from ..timefmt import format_date, format_dt

ACTION_LABELS = {
    "changed_in_google": "Changed in Google",
    "conflict_portal_won": "Changed in both places; the portal's version won (Google's version is kept below)",
    "conflict_google_won": "Changed in both places; Google's version won (the portal's version is kept below)",
    "trashed_after_google_delete": "Deleted in Google; moved to the Trash here (restore it from the Trash)",
    "unlinked_after_google_delete": "Deleted in Google; no longer in that Google calendar (kept here)",
    "google_change_undone": "{who} changed this in Google Calendar, but may not make that change in the portal, "
                            "so it was not allowed and was undone in Google",
    "google_value_not_taken": "Changed in Google to something the portal cannot keep (for example an empty or "
                              "too long title); the portal's version was put back in Google",
}


# The item's fields as its pages name them (the engine records column names).
FIELD_LABELS = {"start_at": "start", "end_at": "end", "start_date": "start date", "end_date": "end date",
                "due_at": "due", "due_date": "due date", "all_day": "all day", "timezone": "time zone",
                "meeting_link": "meeting link", "meet_link": "Google Meet"}


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, str(name).replace("_", " "))


@dataclass(frozen=True)
class HistoryLine:
    when: datetime
    summary: str
    details: list[str] = field(default_factory=list)  # plain-words lines, e.g. the version that lost


def plain(value, tz: str = "UTC") -> str:
    """A stored value as people read it: times in `tz`, Google's {dateTime|date} shapes, no JSON."""
    if isinstance(value, dict) and ("dateTime" in value or "date" in value):
        value = value.get("dateTime") or value.get("date")
    if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-" and value[7:8] == "-":
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        if len(value) == 10:
            return format_date(parsed.date())
        naive_utc = parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
        return format_dt(naive_utc, tz)
    if isinstance(value, datetime):
        return format_dt(value, tz)
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, dict):
        return ", ".join(f"{field_label(key)} {quoted(plain(v, tz))}" for key, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(plain(v, tz) for v in value)
    return str(value)


def quoted(value) -> str:
    return f"'{value}'"


def detail_lines(detail: dict, tz: str) -> list[str]:
    """What the summary does not already say, one plain line per entry."""
    lines = []
    for key, value in detail.items():
        if key in ("changes", "fields", "before", "after"):
            continue
        if key == "lost":
            lines.append("The other version (kept here): " + ("deleted in Google" if value == "deleted"
                                                              else plain(value, tz)))
        else:
            lines.append(f"{key.replace('_', ' ').capitalize()}: {plain(value, tz)}")
    return lines


def describe_changes(detail: dict, tz: str = "UTC") -> str:
    """The changed fields in words, from either shape the engine may write:
    `{"changes": {"title": ["A", "B"]}}`, or `{"fields": ["title"], "before": {...}, "after": {...}}`
    ("title 'A' → 'B'", or "title (was 'A')" when only the old value was kept)."""
    changes = detail.get("changes")
    if isinstance(changes, dict):
        pairs = {name: change if isinstance(change, (list, tuple)) and len(change) == 2 else None
                 for name, change in changes.items()}
    elif isinstance(detail.get("fields"), list):
        before, after = detail.get("before") or {}, detail.get("after") or {}
        pairs = {}
        for name in detail["fields"]:
            known = [side[name] for side in (before, after) if name in side]
            pairs[name] = tuple(known) if name in before else None
    else:
        return ""
    parts = []
    for name, pair in pairs.items():
        label = field_label(name)
        if pair and len(pair) == 2:
            parts.append(f"{label} {quoted(plain(pair[0], tz))} → {quoted(plain(pair[1], tz))}")
        elif pair:
            parts.append(f"{label} (was {quoted(plain(pair[0], tz))})")
        else:
            parts.append(label)
    return ", ".join(parts)


def item_history(item: PortalItem, tz: str = "UTC") -> list[HistoryLine]:
    rows = db.session.scalars(sa.select(SyncHistory).where(
        SyncHistory.company_id == item.company_id, SyncHistory.item_type == item.kind, SyncHistory.item_id == item.id,
    ).order_by(SyncHistory.created_at.desc(), SyncHistory.id.desc())).all()
    user_ids = {row.user_id for row in rows if row.user_id}
    people = {u.id: u.name for u in db.session.scalars(
        sa.select(User).where(User.id.in_(user_ids), User.company_id == item.company_id))} if user_ids else {}
    lines = []
    for row in rows:
        summary = ACTION_LABELS.get(row.action, row.action.replace("_", " ").capitalize())
        if "{who}" in summary:
            summary = summary.format(who=people.get(row.user_id, "Someone"))
        elif row.user_id in people:
            summary += f" by {people[row.user_id]}"
        detail = row.detail if isinstance(row.detail, dict) else {"detail": row.detail}
        changes = describe_changes(detail, tz)
        if changes:
            summary += f": {changes}"
        lines.append(HistoryLine(row.created_at, summary, detail_lines(detail, tz)))
    return lines
