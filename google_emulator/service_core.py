"""What every part of the Calendar service shares: the store, the public base URL, the change hook.

The service is split along its seams (calendars, instances, event writes, listing) into mixins over
this core, so each file holds one concern while `CalendarService` keeps one API for the REST layer,
batch and the calendar UI.
"""
from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from .storage import Store

Event = dict[str, Any]
"""An event resource as stored and returned (Google's JSON shape)."""
Calendar = dict[str, Any]
"""A caller's view of a calendar: the calendars row joined with their calendarList entry."""

WRITER_ROLES = ("writer", "owner")
DEFAULT_REMINDERS = [{"method": "popup", "minutes": 10}]


class ServiceCore:
    """State shared by the service mixins."""

    def __init__(self, store: Store, base_url: str, on_change: Callable[[str], None] | None = None) -> None:
        self.store = store
        self.base_url = base_url.rstrip("/")
        self.on_change: Callable[[str], None] = on_change or (lambda cal_id: None)

    def _row(self, cal_id: str, event_id: str) -> Event | None:
        r = self.store.q1("SELECT * FROM events WHERE calendar_id=? AND id=?", (cal_id, event_id))
        return json.loads(r["data"]) if r else None

    def _html_link(self, cal_id: str, ev_id: str) -> str:
        eid = base64.urlsafe_b64encode(f"{ev_id} {cal_id}".encode()).decode().rstrip("=")
        return f"{self.base_url}/calendar/event?eid={eid}"

    def _sync_epoch(self) -> int:
        """Bumped by reset and by the admin's sync-token expiry: older sync and page tokens answer 410."""
        return self.store.kv_get("sync_epoch", 0)

    def dump(self, cal_id: str) -> list[Event]:
        """Every stored row of a calendar with its change sequence (admin API, for tests)."""
        return [dict(json.loads(r["data"]), _seq=r["seq"]) for r in
                self.store.q("SELECT seq, data FROM events WHERE calendar_id=? ORDER BY seq", (cal_id,))]
