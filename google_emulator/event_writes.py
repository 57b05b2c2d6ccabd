"""Event writes: events.get/insert/patch/update/delete with etags, If-Match and series changes.

Everything that changes an event goes through `_write`, which assigns a new etag, `updated`, and the
calendar's next change sequence (the basis of sync and page tokens), and schedules push notifications
after commit.
"""
from __future__ import annotations

import datetime as dt
import json
import sqlite3

from . import errors as E
from .codec import new_id
from .conference import apply_conference
from .event_rules import (
    ID_RE,
    check_if_match,
    check_writer,
    patch_merge,
    validate_event,
    writable_copy,
)
from .instances import HORIZON_PAST_DAYS, InstancesMixin
from .recurrence import RecurrenceError, instance_suffix, occurrences
from .service_core import Calendar, Event
from .timeutil import bound, fmt_utc, now


class EventWritesMixin(InstancesMixin):
    def _write(self, c: sqlite3.Connection, cal: Calendar, ev: Event, keep_updated: bool = False) -> Event:
        ev["etag"] = self.store.new_etag()
        if not keep_updated or "updated" not in ev:
            ev["updated"] = fmt_utc(now())
        seq = self.store.bump_calendar_seq(c, cal["id"])
        try:
            t0 = ev.get("start") or ev.get("originalStartTime")
            s_ts = bound(t0, cal["time_zone"]).timestamp()
            e_ts = bound(ev.get("end") or t0, cal["time_zone"]).timestamp()
        except (ValueError, KeyError, TypeError):
            s_ts = e_ts = None
        c.execute("INSERT OR REPLACE INTO events(calendar_id, id, seq, status, recurring_event_id, updated, data, "
                  "start_ts, end_ts, recurring) VALUES (?,?,?,?,?,?,?,?,?,?)",
                  (cal["id"], ev["id"], seq, ev.get("status", "confirmed"), ev.get("recurringEventId"),
                   ev["updated"], json.dumps(ev), s_ts, e_ts, int(bool(ev.get("recurrence")))))
        cal_id = cal["id"]
        self.store.after_commit(lambda: self.on_change(cal_id), key=("changed", cal_id))
        return ev

    def _server_fields(self, ev: Event, cal: Calendar, email: str, old: Event | None) -> None:
        ev["kind"] = "calendar#event"
        ev["htmlLink"] = self._html_link(cal["id"], ev["id"])
        if old:
            for f in ("created", "creator", "organizer", "iCalUID"):
                if f in old:
                    ev[f] = old[f]
            ev["sequence"] = old.get("sequence", 0)
            if any(old.get(f) != ev.get(f) for f in ("start", "end", "recurrence")):
                ev["sequence"] += 1
        else:
            ev["created"] = fmt_utc(now())
            ev["creator"] = {"email": email, "self": True}
            org = {"email": cal["id"], "self": True}
            if not cal["is_primary"]:
                org["displayName"] = cal["summary"]
            ev["organizer"] = org
            ev.setdefault("iCalUID", ev["id"] + "@google.com")
            ev["sequence"] = 0
        ev.setdefault("status", "confirmed")
        ev.setdefault("eventType", "default")

    def get_event(self, cal: Calendar, event_id: str) -> Event:
        """The full event, cancelled or not (Google's `get` still returns a deleted event in full)."""
        ev = self._row(cal["id"], event_id)
        if ev is None:
            got = self._instance_from_id(cal, event_id)
            if not got:
                raise E.not_found()
            master, ev = got
            if master.get("status") == "cancelled":
                ev["status"] = "cancelled"
        return ev

    def insert_event(self, cal: Calendar, email: str, body: object, conference_version: int = 0) -> Event:
        check_writer(cal)
        if not isinstance(body, dict):
            raise E.bad_request("Parse Error", reason="parseError")
        ev = writable_copy(body)
        if ev.get("id") is not None and body.get("iCalUID"):
            raise E.invalid("Invalid value for: iCalUID and id cannot both be set.", location="id")
        if "id" in ev:
            if not isinstance(ev["id"], str) or not ID_RE.match(ev["id"]):
                raise E.invalid("Invalid resource id value.", location="id")
        else:
            ev["id"] = new_id()
        ev.pop("recurringEventId", None)
        ev.pop("originalStartTime", None)
        if ev.get("status") == "cancelled":
            ev["status"] = "confirmed"
        validate_event(ev, cal)
        apply_conference(ev, body, None, conference_version)
        with self.store.tx() as c:
            if c.execute("SELECT 1 FROM events WHERE calendar_id=? AND id=?", (cal["id"], ev["id"])).fetchone():
                raise E.duplicate()
            self._server_fields(ev, cal, email, None)
            return self._write(c, cal, ev)

    def _load_for_write(self, c: sqlite3.Connection, cal: Calendar, event_id: str) -> tuple[Event, bool]:
        """(the event, whether it is a virtual instance with no row yet); 404 when neither exists."""
        r = c.execute("SELECT data FROM events WHERE calendar_id=? AND id=?", (cal["id"], event_id)).fetchone()
        if r:
            return json.loads(r["data"]), False
        got = self._instance_from_id(cal, event_id)
        if not got:
            raise E.not_found()
        return got[1], True

    def modify_event(self, cal: Calendar, email: str, event_id: str, body: object, *, replace: bool,
                     if_match: str | None = None, conference_version: int = 0) -> Event:
        """events.patch (replace=False) and events.update (replace=True)."""
        check_writer(cal)
        if not isinstance(body, dict):
            raise E.bad_request("Parse Error", reason="parseError")
        with self.store.tx() as c:
            old, virtual = self._load_for_write(c, cal, event_id)
            check_if_match(old, if_match)
            if "id" in body and body["id"] not in (None, event_id):
                raise E.invalid("Invalid resource id value.", location="id")
            if replace:
                ev = writable_copy(body)
                for f in ("recurringEventId", "originalStartTime"):
                    if f in old:
                        ev[f] = old[f]
            else:
                ev = patch_merge(old, body)
            ev["id"] = event_id
            if old.get("recurringEventId"):
                ev["recurringEventId"] = old["recurringEventId"]
                ev["originalStartTime"] = old["originalStartTime"]
                ev.pop("recurrence", None)
            validate_event(ev, cal)
            apply_conference(ev, body, old, conference_version)
            self._server_fields(ev, cal, email, old)
            ev["etag"] = old.get("etag")
            # Google leaves `updated` alone when only reminders change
            only_reminders = _without(ev, "reminders", "etag") == _without(old, "reminders", "etag")
            if old.get("recurrence") and (old.get("recurrence") != ev.get("recurrence")
                                          or old.get("start") != ev.get("start")):
                self._cancel_removed_instances(c, cal, old, ev)
            return self._write(c, cal, ev, keep_updated=only_reminders and not virtual)

    def _cancel_removed_instances(self, c: sqlite3.Connection, cal: Calendar, old: Event, new: Event) -> None:
        """When a series' rule or start changes, instances that no longer exist become cancelled
        exceptions, so incremental (singleEvents) syncs learn about them as Google reports them."""
        horizon_start = now() - dt.timedelta(days=HORIZON_PAST_DAYS)
        try:
            o_occ, o_all, o_dur = occurrences(old, cal["time_zone"], window_start=horizon_start)
        except (RecurrenceError, ValueError, KeyError):
            return
        new_ids = set()
        if new.get("recurrence") and new.get("status") != "cancelled":
            try:
                n_occ, n_all, _n_dur = occurrences(new, cal["time_zone"], window_start=horizon_start)
                new_ids = {f"{new['id']}_{instance_suffix(o, n_all)}" for o in n_occ}
            except (RecurrenceError, ValueError, KeyError):
                pass
        existing = {r["id"] for r in c.execute("SELECT id FROM events WHERE calendar_id=? AND recurring_event_id=?",
                                                (cal["id"], old["id"]))}
        for o in o_occ:
            iid = f"{old['id']}_{instance_suffix(o, o_all)}"
            if iid in new_ids or iid in existing:
                continue
            inst = self._materialize(cal, old, o, o_all, o_dur)
            inst["status"] = "cancelled"
            self._write(c, cal, inst)

    def delete_event(self, cal: Calendar, event_id: str, if_match: str | None = None) -> None:
        check_writer(cal)
        with self.store.tx() as c:
            old, _virtual = self._load_for_write(c, cal, event_id)
            check_if_match(old, if_match)
            if old.get("status") == "cancelled":
                raise E.deleted()
            old["status"] = "cancelled"
            self._write(c, cal, old)
            if old.get("recurrence"):
                for r in c.execute("SELECT data FROM events WHERE calendar_id=? AND recurring_event_id=? "
                                   "AND status != 'cancelled'", (cal["id"], event_id)).fetchall():
                    exc = json.loads(r["data"])
                    exc["status"] = "cancelled"
                    self._write(c, cal, exc)


def _without(ev: Event, *fields: str) -> dict:
    return {k: v for k, v in ev.items() if k not in fields}
