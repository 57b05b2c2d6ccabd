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
    "pulled": "Changed in Google",
    "pull": "Changed in Google",
    "google_update": "Changed in Google",
    "updated_from_google": "Changed in Google",
    "conflict": "Conflict resolved",
    "unlinked": "Unlinked from Google",
    "unlink": "Unlinked from Google",
    "trashed": "Moved to Trash after deletion in Google",
    "deleted_in_google": "Deleted in Google",
    "pushed": "Sent to Google",
}


@dataclass(frozen=True)
class HistoryLine:
    when: datetime
    summary: str
    detail: str  # the raw detail as indented JSON, "" when empty


def describe_changes(detail: dict) -> str:
    """`{"changes": {"title": ["A", "B"]}}` (or `{"old":..., "new":...}` pairs) → "title 'A' → 'B'"."""
    changes = detail.get("changes")
    if not isinstance(changes, dict):
        return ""
    parts = []
    for field, change in changes.items():
        if isinstance(change, dict):
            change = [change.get("old", change.get("before")), change.get("new", change.get("after"))]
        if isinstance(change, (list, tuple)) and len(change) == 2:
            parts.append(f"{field} '{change[0]}' → '{change[1]}'")
        else:
            parts.append(str(field))
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
        if row.user_id in people:
            summary += f" by {people[row.user_id]}"
        detail = row.detail if isinstance(row.detail, dict) else {"detail": row.detail}
        changes = describe_changes(detail)
        if changes:
            summary += f": {changes}"
        raw = json.dumps(detail, indent=2, sort_keys=True, ensure_ascii=False, default=str) if detail else ""
        lines.append(HistoryLine(row.created_at, summary, raw))
    return lines
