"""Calendars and the calendar list: accounts' calendars, calendars.insert/get, calendarList.list/get."""
from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable
from typing import Any

from . import errors as E
from .codec import b64, new_id, unb64
from .service_core import DEFAULT_REMINDERS, WRITER_ROLES, Calendar, ServiceCore
from .timeutil import now, zone

ROLE_RANK = {"freeBusyReader": 0, "reader": 1, "writer": 2, "writerWithoutPrivateAccess": 2, "owner": 3}
CALENDAR_VIEW = ("SELECT c.*, l.access_role, l.is_primary, l.background_color, l.etag AS list_etag "
                 "FROM calendars c JOIN calendar_list l ON l.calendar_id = c.id ")
MEET_ONLY = {"allowedConferenceSolutionTypes": ["hangoutsMeet"]}


class CalendarsMixin(ServiceCore):
    def resolve(self, email: str, calendar_id: str) -> Calendar:
        """The caller's view of a calendar (404 when not in their calendar list)."""
        cid = email if calendar_id == "primary" else calendar_id
        r = self.store.q1(CALENDAR_VIEW + "WHERE l.email=? AND c.id=?", (email, cid))
        if not r:
            raise E.not_found()
        return dict(r)

    def ensure_account(self, email: str, name: str | None = None, calendars: Iterable[dict] | None = None,
                       default_calendars: bool = True, time_zone: str = "UTC") -> str:
        """Create (or update) an account: its primary calendar (id = email, owner), plus by default a
        "Team Holidays" (writer) and a "Company Holidays" (reader) calendar; `calendars` adds or overrides
        entries (an existing calendar id is shared with this account under the given accessRole)."""
        email = email.strip().lower()
        name = name or email.split("@")[0].title()
        with self.store.tx() as c:
            c.execute("INSERT INTO accounts(email, name, created) VALUES (?,?,?) "
                      "ON CONFLICT(email) DO UPDATE SET name=excluded.name", (email, name, now().timestamp()))
            specs = list(calendars or [])
            if not any(s.get("id") in (email, "primary") for s in specs):
                specs.insert(0, {"id": email, "summary": email, "accessRole": "owner", "timeZone": time_zone})
            if default_calendars:
                specs += self._default_calendars(email, specs, time_zone)
            for s in specs:
                cid = email if s.get("id") == "primary" else s.get("id") or (
                    "c_" + new_id(24) + "@group.calendar.google.com")
                role = s.get("accessRole", "owner")
                self._create_calendar(c, cid, s.get("summary") or cid, s.get("timeZone") or time_zone,
                                      owner=email if role == "owner" else None, client_id=None,
                                      description=s.get("description"))
                c.execute("INSERT OR REPLACE INTO calendar_list(email, calendar_id, access_role, is_primary, "
                          "background_color, etag) VALUES (?,?,?,?,?,?)",
                          (email, cid, role, int(cid == email), s.get("backgroundColor") or "#9fc6e7",
                           self.store.new_etag()))
        return email

    @staticmethod
    def _default_calendars(email: str, specs: list[dict], time_zone: str) -> list[dict]:
        h = hashlib.sha1(email.encode()).hexdigest()
        given = {s.get("id") for s in specs}
        return [{"id": cid, "summary": summary, "accessRole": role, "timeZone": time_zone}
                for cid, summary, role in ((f"c_{h[:24]}team@group.calendar.google.com", "Team Holidays", "writer"),
                                           (f"c_{h[:24]}company@group.calendar.google.com", "Company Holidays",
                                            "reader"))
                if cid not in given and not any(s.get("summary") == summary for s in specs)]

    def _create_calendar(self, c: sqlite3.Connection, cid: str, summary: str, tz: str, owner: str | None,
                         client_id: str | None, description: str | None = None) -> None:
        if not zone(tz):
            raise E.invalid("Invalid time zone definition.")
        if c.execute("SELECT 1 FROM calendars WHERE id=?", (cid,)).fetchone():
            c.execute("UPDATE calendars SET summary=?, time_zone=? WHERE id=?", (summary, tz, cid))
            return
        c.execute("INSERT INTO calendars(id, summary, description, time_zone, owner_email, created_by_client, "
                  "etag, change_seq) VALUES (?,?,?,?,?,?,?,0)",
                  (cid, summary, description, tz, owner, client_id, self.store.new_etag()))

    def insert_calendar(self, email: str, client_id: str | None, body: Any) -> dict:
        if not isinstance(body, dict) or not body.get("summary"):
            raise E.required("Missing title.", location="summary")
        cid = "c_" + new_id(40) + "@group.calendar.google.com"
        tz = body.get("timeZone") or "UTC"
        with self.store.tx() as c:
            self._create_calendar(c, cid, body["summary"], tz, email, client_id, body.get("description"))
            c.execute("INSERT INTO calendar_list(email, calendar_id, access_role, is_primary, background_color, "
                      "etag) VALUES (?,?,?,?,?,?)", (email, cid, "owner", 0, "#9fe1e7", self.store.new_etag()))
        return self.calendar_resource(self.resolve(email, cid))

    def delete_calendar(self, cal: Calendar) -> None:
        """A secondary calendar its owner deletes: gone for everyone it was shared with, its events and its
        channels with it (the primary calendar can only be cleared)."""
        if cal["is_primary"]:
            raise E.bad_request("Cannot delete primary calendar.", reason="invalid")
        if cal["access_role"] != "owner":
            raise E.ApiError(403, "forbidden", "Forbidden")
        with self.store.tx() as c:
            for table in ("events", "calendar_list"):
                c.execute(f"DELETE FROM {table} WHERE calendar_id=?", (cal["id"],))
            c.execute("DELETE FROM calendars WHERE id=?", (cal["id"],))
            c.execute("UPDATE channels SET stopped=1 WHERE calendar_id=?", (cal["id"],))

    @staticmethod
    def calendar_resource(cal: Calendar) -> dict:
        out = {"kind": "calendar#calendar", "etag": cal["etag"], "id": cal["id"], "summary": cal["summary"],
               "timeZone": cal["time_zone"], "conferenceProperties": MEET_ONLY}
        if cal.get("description"):
            out["description"] = cal["description"]
        return out

    @staticmethod
    def calendar_list_entry(cal: Calendar) -> dict:
        out = {"kind": "calendar#calendarListEntry", "etag": cal["list_etag"], "id": cal["id"],
               "summary": cal["summary"], "timeZone": cal["time_zone"], "colorId": "14",
               "backgroundColor": cal["background_color"] or "#9fc6e7", "foregroundColor": "#000000",
               "selected": True, "accessRole": cal["access_role"],
               "defaultReminders": DEFAULT_REMINDERS if cal["access_role"] in WRITER_ROLES else [],
               "conferenceProperties": MEET_ONLY}
        if cal.get("description"):
            out["description"] = cal["description"]
        if cal["is_primary"]:
            out["primary"] = True
            out["notificationSettings"] = {"notifications": []}
        return out

    def calendar_list(self, email: str, params: dict) -> dict:
        min_role = params.get("minAccessRole")
        if min_role and min_role not in ROLE_RANK:
            raise E.invalid("Invalid value for minAccessRole", location="minAccessRole")
        if params.get("syncToken"):
            if min_role or params.get("showOwnOrganizationOnly"):
                raise E.bad_request("Sync token cannot be used with minAccessRole.", reason="invalid")
            try:  # every entry comes back on an incremental list (a superset of the changes)
                if unb64(params["syncToken"])["cl"] != email:
                    raise ValueError
            except Exception:
                raise E.full_sync_required()
        rows = self.store.q(CALENDAR_VIEW + "WHERE l.email=? ORDER BY l.is_primary DESC, c.summary", (email,))
        items = [self.calendar_list_entry(dict(r)) for r in rows
                 if not min_role or ROLE_RANK[r["access_role"]] >= ROLE_RANK[min_role]]
        max_results = min(int(params.get("maxResults") or 100), 250)
        start = 0
        if params.get("pageToken"):
            try:
                start = int(unb64(params["pageToken"])["o"])
            except Exception:
                raise E.invalid("Invalid page token value.", location="pageToken")
        out = {"kind": "calendar#calendarList", "etag": self.store.new_etag(),
               "items": items[start:start + max_results]}
        if start + max_results < len(items):
            out["nextPageToken"] = b64({"o": start + max_results})
        else:
            out["nextSyncToken"] = b64({"cl": email, "t": now().timestamp()})
        return out
