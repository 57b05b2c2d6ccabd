"""An item's sync history in words: what the sync engine did to it, newest first.

The engine writes `SyncHistory` rows with a free-form `detail` dict; we phrase the common
shapes ("changes": {field: [old, new]}) and always show the raw detail too, so nothing is hidden.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ..extensions import db
from ..models import SyncHistory, User
from ..models.items import PortalItem

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


@dataclass(frozen=True)
class HistoryLine:
    when: datetime
    summary: str
    detail: str  # the raw detail as indented JSON, "" when empty


def quoted(value) -> str:
    return f"'{value}'"


def describe_changes(detail: dict) -> str:
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
        if pair and len(pair) == 2:
            parts.append(f"{name} {quoted(pair[0])} → {quoted(pair[1])}")
        elif pair:
            parts.append(f"{name} (was {quoted(pair[0])})")
        else:
            parts.append(str(name))
    return ", ".join(parts)


def item_history(item: PortalItem) -> list[HistoryLine]:
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
        changes = describe_changes(detail)
        if changes:
            summary += f": {changes}"
        raw = json.dumps(detail, indent=2, sort_keys=True, ensure_ascii=False, default=str) if detail else ""
        lines.append(HistoryLine(row.created_at, summary, raw))
    return lines
