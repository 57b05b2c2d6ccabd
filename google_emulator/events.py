"""Calendar v3 semantics shared by the REST API, batch and the calendar UI.

Everything that changes an event goes through `_write`, which assigns a new
etag, `updated`, and the calendar's next change sequence, and schedules push
notifications after commit. Sync and page tokens are built on that sequence.
"""
from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import json
import re
import secrets

from . import errors as E
from .recurrence import RecurrenceError, instance_suffix, master_start, occurrences, parse_instance_id
from .timeutil import UTC, bound, fmt_local, fmt_utc, is_date, now, overlaps, parse_rfc3339, zone

ID_RE = re.compile(r"^[a-v0-9]{5,1024}$")
B32HEX = "0123456789abcdefghijklmnopqrstuv"
WRITER_ROLES = ("writer", "owner")
READ_ONLY_FIELDS = ("kind", "etag", "htmlLink", "created", "updated", "creator", "hangoutLink",
                    "recurringEventId", "privateCopy", "locked")
UPDATED_MIN_MAX_AGE = dt.timedelta(days=28)
DEFAULT_REMINDERS = [{"method": "popup", "minutes": 10}]


def new_id(n=26) -> str:
    return "".join(secrets.choice(B32HEX) for _ in range(n))


def _b64(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")


def _unb64(s: str):
    s = s + "=" * (-len(s) % 4)
    return json.loads(base64.urlsafe_b64decode(s.encode()))


def _bool(v, default=False):
    if v is None:
        return default
    if isinstance(v, bool):
        return v
    return str(v).lower() in ("true", "1")


class CalendarService:
    """Calendar and event operations on a Store, for one emulator instance."""

    def __init__(self, store, base_url: str, on_change=None):
        self.store = store
        self.base_url = base_url.rstrip("/")
        self.on_change = on_change or (lambda cal_id: None)

    # ------------------------------------------------------------------ calendars
    def resolve(self, email: str, calendar_id: str) -> dict:
        """The caller's view of a calendar (404 when not in their calendar list)."""
        cid = email if calendar_id == "primary" else calendar_id
        r = self.store.q1(
            "SELECT c.*, l.access_role, l.is_primary, l.background_color, l.etag AS list_etag "
            "FROM calendars c JOIN calendar_list l ON l.calendar_id = c.id WHERE l.email=? AND c.id=?",
            (email, cid))
        if not r:
            raise E.not_found()
        return dict(r)

    def ensure_account(self, email: str, name: str | None = None, calendars=None, default_calendars=True,
                       time_zone: str = "UTC"):
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
                h = hashlib.sha1(email.encode()).hexdigest()
                given = {s.get("id") for s in specs}
                for cid, summary, role in ((f"c_{h[:24]}team@group.calendar.google.com", "Team Holidays", "writer"),
                                           (f"c_{h[:24]}company@group.calendar.google.com", "Company Holidays",
                                            "reader")):
                    if cid not in given and not any(s.get("summary") == summary for s in specs):
                        specs.append({"id": cid, "summary": summary, "accessRole": role, "timeZone": time_zone})
            for s in specs:
                cid = email if s.get("id") == "primary" else s.get("id") or (
                    "c_" + new_id(24) + "@group.calendar.google.com")
                primary = cid == email
                role = s.get("accessRole", "owner")
                self._create_calendar(c, cid, s.get("summary") or cid, s.get("timeZone") or time_zone,
                                      owner=email if role == "owner" else None, client_id=None,
                                      description=s.get("description"))
                c.execute("INSERT OR REPLACE INTO calendar_list(email, calendar_id, access_role, is_primary, "
                          "background_color, etag) VALUES (?,?,?,?,?,?)",
                          (email, cid, role, int(primary), s.get("backgroundColor") or "#9fc6e7",
                           self.store.new_etag()))
        return email

    def _create_calendar(self, c, cid, summary, tz, owner, client_id, description=None):
        if not zone(tz):
            raise E.invalid("Invalid time zone definition.")
        if c.execute("SELECT 1 FROM calendars WHERE id=?", (cid,)).fetchone():
            c.execute("UPDATE calendars SET summary=?, time_zone=? WHERE id=?", (summary, tz, cid))
            return
        c.execute("INSERT INTO calendars(id, summary, description, time_zone, owner_email, created_by_client, "
                  "etag, change_seq) VALUES (?,?,?,?,?,?,?,0)",
                  (cid, summary, description, tz, owner, client_id, self.store.new_etag()))

    def insert_calendar(self, email: str, client_id: str | None, body: dict) -> dict:
        if not isinstance(body, dict) or not body.get("summary"):
            raise E.required("Missing title.", location="summary")
        cid = "c_" + new_id(40) + "@group.calendar.google.com"
        tz = body.get("timeZone") or "UTC"
        with self.store.tx() as c:
            self._create_calendar(c, cid, body["summary"], tz, email, client_id, body.get("description"))
            c.execute("INSERT INTO calendar_list(email, calendar_id, access_role, is_primary, background_color, "
                      "etag) VALUES (?,?,?,?,?,?)", (email, cid, "owner", 0, "#9fe1e7", self.store.new_etag()))
        return self.calendar_resource(self.resolve(email, cid))

    def calendar_resource(self, cal: dict) -> dict:
        out = {"kind": "calendar#calendar", "etag": cal["etag"], "id": cal["id"], "summary": cal["summary"],
               "timeZone": cal["time_zone"],
               "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]}}
        if cal.get("description"):
            out["description"] = cal["description"]
        return out

    def calendar_list_entry(self, cal: dict) -> dict:
        out = {"kind": "calendar#calendarListEntry", "etag": cal["list_etag"], "id": cal["id"],
               "summary": cal["summary"], "timeZone": cal["time_zone"], "colorId": "14",
               "backgroundColor": cal["background_color"] or "#9fc6e7", "foregroundColor": "#000000",
               "selected": True, "accessRole": cal["access_role"],
               "defaultReminders": DEFAULT_REMINDERS if cal["access_role"] in WRITER_ROLES else [],
               "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]}}
        if cal.get("description"):
            out["description"] = cal["description"]
        if cal["is_primary"]:
            out["primary"] = True
            out["notificationSettings"] = {"notifications": []}
        return out

    def calendar_list(self, email: str, params: dict) -> dict:
        role_rank = {"freeBusyReader": 0, "reader": 1, "writer": 2, "writerWithoutPrivateAccess": 2, "owner": 3}
        min_role = params.get("minAccessRole")
        if min_role and min_role not in role_rank:
            raise E.invalid("Invalid value for minAccessRole", location="minAccessRole")
        if params.get("syncToken"):
            if min_role or params.get("showOwnOrganizationOnly"):
                raise E.bad_request("Sync token cannot be used with minAccessRole.", reason="invalid")
            try:  # every entry comes back on an incremental list (a superset of the changes)
                if _unb64(params["syncToken"])["cl"] != email:
                    raise ValueError
            except Exception:
                raise E.full_sync_required()
        rows = self.store.q(
            "SELECT c.*, l.access_role, l.is_primary, l.background_color, l.etag AS list_etag FROM calendars c "
            "JOIN calendar_list l ON l.calendar_id=c.id WHERE l.email=? ORDER BY l.is_primary DESC, c.summary",
            (email,))
        items = [self.calendar_list_entry(dict(r)) for r in rows
                 if not min_role or role_rank[r["access_role"]] >= role_rank[min_role]]
        max_results = min(int(params.get("maxResults") or 100), 250)
        start = 0
        if params.get("pageToken"):
            try:
                start = int(_unb64(params["pageToken"])["o"])
            except Exception:
                raise E.invalid("Invalid page token value.", location="pageToken")
        page = items[start:start + max_results]
        out = {"kind": "calendar#calendarList", "etag": self.store.new_etag(), "items": page}
        if start + max_results < len(items):
            out["nextPageToken"] = _b64({"o": start + max_results})
        else:
            out["nextSyncToken"] = _b64({"cl": email, "t": now().timestamp()})
        return out

    # ------------------------------------------------------------------ events: helpers
    def _row(self, cal_id, event_id):
        r = self.store.q1("SELECT * FROM events WHERE calendar_id=? AND id=?", (cal_id, event_id))
        return json.loads(r["data"]) if r else None

    def _write(self, c, cal: dict, ev: dict, keep_updated=False):
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

    def _html_link(self, cal_id, ev_id):
        eid = base64.urlsafe_b64encode(f"{ev_id} {cal_id}".encode()).decode().rstrip("=")
        return f"{self.base_url}/calendar/event?eid={eid}"

    def _norm_time(self, t, which: str) -> dict:
        label = "start" if which == "start" else "end"
        if not isinstance(t, dict) or not (t.get("date") or t.get("dateTime")):
            raise E.required(f"Missing {label} time.", location=label)
        if t.get("date") and t.get("dateTime"):
            raise E.bad_request(f"Invalid {label} time.", reason="invalid", location=label)
        out = {}
        tzname = t.get("timeZone")
        if tzname and not zone(tzname):
            raise E.invalid(f"Invalid time zone definition for {label} time.", location=label)
        if t.get("date"):
            if not is_date(t["date"]):
                raise E.bad_request(f"Invalid {label} time.", reason="invalid", location=label)
            out["date"] = t["date"]
            if tzname:
                out["timeZone"] = tzname
            return out
        try:
            d = parse_rfc3339(t["dateTime"], require_offset=False)
        except (ValueError, TypeError):
            raise E.bad_request(f"Invalid {label} time.", reason="invalid", location=label)
        if d.tzinfo is None:
            if not tzname:
                raise E.bad_request(f"Missing time zone definition for {label} time.", location=label)
            d = d.replace(tzinfo=zone(tzname))
        if tzname:
            d = d.astimezone(zone(tzname))
            out["timeZone"] = tzname
        out["dateTime"] = fmt_local(d)
        return out

    def _validate(self, ev: dict, cal: dict):
        """Normalise and check an event body in place (Google's field rules)."""
        cal_tz = cal["time_zone"]
        is_cancelled_instance = ev.get("status") == "cancelled" and ev.get("recurringEventId")
        if not is_cancelled_instance:
            ev["start"] = self._norm_time(ev.get("start"), "start")
            ev["end"] = self._norm_time(ev.get("end"), "end")
            if bool(ev["start"].get("date")) != bool(ev["end"].get("date")):
                raise E.bad_request("Invalid start time.", reason="invalid", location="start")
            if bound(ev["end"], cal_tz) <= bound(ev["start"], cal_tz):
                raise E.ApiError(400, "timeRangeEmpty", "The specified time range is empty.", domain="calendar")
        if ev.get("recurrence") is not None:
            rec = ev["recurrence"]
            if not isinstance(rec, list) or not all(isinstance(x, str) for x in rec):
                raise E.invalid("Invalid recurrence rule.", location="recurrence")
            if not rec:
                ev.pop("recurrence")
            else:
                if ev.get("recurringEventId"):
                    raise E.invalid("Invalid recurrence rule.", location="recurrence")
                if ev["start"].get("dateTime") and not ev["start"].get("timeZone"):
                    raise E.bad_request("Missing time zone definition for start time.", location="start")
                if any(x.upper().startswith("DTSTART") for x in rec):
                    raise E.invalid("Invalid recurrence rule.", location="recurrence")
                try:
                    occurrences(ev, cal_tz, window_end=bound(ev["start"], cal_tz) + dt.timedelta(days=1))
                except (RecurrenceError, ValueError, TypeError, KeyError):
                    raise E.invalid("Invalid recurrence rule.", location="recurrence")
        rem = ev.get("reminders")
        if rem is not None:
            if not isinstance(rem, dict):
                raise E.invalid("Invalid reminders.", location="reminders")
            overrides = rem.get("overrides") or []
            if rem.get("useDefault") and overrides:
                raise E.ApiError(400, "cannotUseDefaultRemindersAndSpecifyOverride",
                                 "Cannot specify both default reminders and overrides at the same time.",
                                 domain="calendar")
            if len(overrides) > 5:
                raise E.ApiError(400, "eventRemindersCountExceedsLimit",
                                 "The number of reminders exceeds the limit.", domain="calendar")
            for o in overrides:
                if not isinstance(o, dict) or o.get("method") not in ("email", "popup"):
                    raise E.invalid("Invalid reminder method.", location="reminders.overrides.method")
                m = o.get("minutes")
                if not isinstance(m, int) or isinstance(m, bool) or not 0 <= m <= 40320:
                    raise E.invalid("Invalid reminder minutes.", location="reminders.overrides.minutes")
            rem["useDefault"] = bool(rem.get("useDefault", False))
            if not overrides:
                rem.pop("overrides", None)
        else:
            ev["reminders"] = {"useDefault": True}
        xp = ev.get("extendedProperties")
        if xp is not None:
            if not isinstance(xp, dict):
                raise E.invalid("Invalid extended properties.", location="extendedProperties")
            total = 0
            for kind in ("private", "shared"):
                m = xp.get(kind)
                if m is None:
                    xp.pop(kind, None)
                    continue
                if not isinstance(m, dict):
                    raise E.invalid("Invalid extended properties.", location="extendedProperties")
                clean = {}
                for k, v in m.items():
                    if v is None or len(str(k)) > 44:
                        continue
                    clean[str(k)] = str(v)[:1024]
                    total += len(str(k)) + len(clean[str(k)])
                xp[kind] = clean
            count = sum(len(xp.get(k, {})) for k in ("private", "shared"))
            if count > 300 or total > 32 * 1024:
                raise E.ApiError(400, "tooManyExtendedProperties", "Too many extended properties.",
                                 domain="calendar")
        if ev.get("status") not in (None, "confirmed", "tentative", "cancelled"):
            raise E.invalid("Invalid value for: status", location="status")
        if ev.get("transparency") not in (None, "opaque", "transparent"):
            raise E.invalid("Invalid value for: transparency", location="transparency")
        if ev.get("visibility") not in (None, "default", "public", "private", "confidential"):
            raise E.invalid("Invalid value for: visibility", location="visibility")
        if ev.get("attendees") is not None:
            if not isinstance(ev["attendees"], list):
                raise E.invalid("Invalid attendees.", location="attendees")
            for a in ev["attendees"]:
                if not isinstance(a, dict) or not a.get("email"):
                    raise E.required("Missing attendee email.", location="attendees.email")
                a.setdefault("responseStatus", "needsAction")

    def _conference(self, ev: dict, body: dict, old: dict | None, version: int):
        if version < 1:
            if old is not None and "conferenceData" in old:
                ev["conferenceData"] = old["conferenceData"]
                if old.get("hangoutLink"):
                    ev["hangoutLink"] = old["hangoutLink"]
            else:
                ev.pop("conferenceData", None)
            return
        cd = body.get("conferenceData")
        if cd is None:
            if "conferenceData" in body:  # explicit null clears
                ev.pop("conferenceData", None)
                ev.pop("hangoutLink", None)
            return
        cr = (cd or {}).get("createRequest")
        if cr:
            rid = cr.get("requestId")
            if not rid:
                raise E.required("Missing conference request id.", location="conferenceData.createRequest.requestId")
            key = (cr.get("conferenceSolutionKey") or {}).get("type", "hangoutsMeet")
            if key != "hangoutsMeet":
                raise E.invalid("Invalid conference type value.", location="conferenceData")
            if old and ((old.get("conferenceData") or {}).get("createRequest") or {}).get("requestId") == rid:
                ev["conferenceData"] = old["conferenceData"]
                ev["hangoutLink"] = old.get("hangoutLink")
                return
            h = hashlib.sha256(rid.encode()).hexdigest()
            letters = "".join(chr(97 + int(h[i:i + 2], 16) % 26) for i in range(0, 20, 2))
            code = f"{letters[:3]}-{letters[3:7]}-{letters[7:10]}"
            uri = f"https://meet.google.com/{code}"
            ev["conferenceData"] = {
                "createRequest": {"requestId": rid, "conferenceSolutionKey": {"type": "hangoutsMeet"},
                                  "status": {"statusCode": "success"}},
                "entryPoints": [{"entryPointType": "video", "uri": uri, "label": uri[8:]}],
                "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet",
                                       "iconUri": "https://fonts.gstatic.com/s/i/productlogos/meet_2020q4/v6/"
                                                  "web-512dp/logo_meet_2020q4_color_2x_web_512dp.png"},
                "conferenceId": code,
            }
            ev["hangoutLink"] = uri
        else:
            ev["conferenceData"] = cd

    def _server_fields(self, ev: dict, cal: dict, email: str, old: dict | None):
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

    @staticmethod
    def _check_writer(cal):
        if cal["access_role"] not in WRITER_ROLES:
            raise E.writer_required()

    @staticmethod
    def _check_if_match(current: dict | None, if_match: str | None):
        if if_match and if_match.strip() != "*" and current is not None:
            tags = [t.strip().removeprefix("W/") for t in if_match.split(",")]
            if current.get("etag") not in tags:
                raise E.condition_not_met()

    # ------------------------------------------------------------------ events: instances
    def _materialize(self, cal: dict, master: dict, orig, all_day: bool, dur) -> dict:
        """A virtual instance of a recurring master at original start `orig`."""
        inst = copy.deepcopy(master)
        inst.pop("recurrence", None)
        inst["id"] = f"{master['id']}_{instance_suffix(orig, all_day)}"
        inst["recurringEventId"] = master["id"]
        if all_day:
            d0 = orig.date()
            inst["originalStartTime"] = {"date": d0.isoformat()}
            inst["start"] = {"date": d0.isoformat()}
            inst["end"] = {"date": (orig + dur).date().isoformat()}
        else:
            tzname = master["start"].get("timeZone")
            inst["originalStartTime"] = {"dateTime": fmt_local(orig)}
            inst["start"] = {"dateTime": fmt_local(orig)}
            end_tz = zone(master["end"].get("timeZone")) or orig.tzinfo
            inst["end"] = {"dateTime": fmt_local((orig + dur).astimezone(end_tz))}
            if tzname:
                inst["originalStartTime"]["timeZone"] = tzname
                inst["start"]["timeZone"] = tzname
            if master["end"].get("timeZone"):
                inst["end"]["timeZone"] = master["end"]["timeZone"]
        inst["htmlLink"] = self._html_link(cal["id"], inst["id"])
        return inst

    def _instance_from_id(self, cal: dict, event_id: str):
        """(master, virtual instance) for an instance id that has no exception row yet, else None."""
        parsed = parse_instance_id(event_id)
        if not parsed:
            return None
        master = self._row(cal["id"], parsed[0])
        if not master or not master.get("recurrence"):
            return None
        suffix = parsed[1]
        try:
            dtstart, all_day, dur = master_start(master, cal["time_zone"])
            if all_day:
                target = dt.datetime.strptime(suffix, "%Y%m%d")
                lo = target.replace(tzinfo=zone(cal["time_zone"]) or UTC)
            else:
                target = dt.datetime.strptime(suffix, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
                lo = target
            occ, all_day, dur = occurrences(master, cal["time_zone"], window_start=lo + dur - dt.timedelta(seconds=1),
                                            window_end=lo + dt.timedelta(seconds=1))
        except (RecurrenceError, ValueError, KeyError):
            return None
        for o in occ:
            if instance_suffix(o, all_day) == suffix:
                return master, self._materialize(cal, master, o, all_day, dur)
        return None

    def _expand(self, cal, master, exceptions: dict, tmin, tmax):
        """All instances of a master (exceptions applied), as (instance_dict, is_exception)."""
        tz = cal["time_zone"]
        try:
            occ, all_day, dur = occurrences(master, tz, window_start=tmin, window_end=tmax)
        except (RecurrenceError, ValueError, KeyError):
            return []
        out, seen = [], set()
        for o in occ:
            inst = self._materialize(cal, master, o, all_day, dur)
            seen.add(inst["id"])
            exc = exceptions.get(inst["id"])
            out.append(exc if exc is not None else inst)
        for iid, exc in exceptions.items():
            if iid not in seen:
                out.append(exc)
        return out

    # ------------------------------------------------------------------ events: CRUD
    def get_event(self, cal: dict, event_id: str) -> dict:
        ev = self._row(cal["id"], event_id)
        if ev is None:
            got = self._instance_from_id(cal, event_id)
            if not got:
                raise E.not_found()
            master, ev = got
            if master.get("status") == "cancelled":
                ev["status"] = "cancelled"
        return ev

    def insert_event(self, cal: dict, email: str, body: dict, conference_version: int = 0) -> dict:
        self._check_writer(cal)
        if not isinstance(body, dict):
            raise E.bad_request("Parse Error", reason="parseError")
        ev = {k: copy.deepcopy(v) for k, v in body.items() if k not in READ_ONLY_FIELDS and v is not None}
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
        self._validate(ev, cal)
        self._conference(ev, body, None, conference_version)
        with self.store.tx() as c:
            if c.execute("SELECT 1 FROM events WHERE calendar_id=? AND id=?", (cal["id"], ev["id"])).fetchone():
                raise E.duplicate()
            self._server_fields(ev, cal, email, None)
            return self._write(c, cal, ev)

    def _load_for_write(self, c, cal, event_id):
        r = c.execute("SELECT data FROM events WHERE calendar_id=? AND id=?", (cal["id"], event_id)).fetchone()
        if r:
            return json.loads(r["data"]), False
        got = self._instance_from_id(cal, event_id)
        if not got:
            raise E.not_found()
        return got[1], True

    def modify_event(self, cal: dict, email: str, event_id: str, body: dict, *, replace: bool,
                     if_match: str | None = None, conference_version: int = 0) -> dict:
        """events.patch (replace=False) and events.update (replace=True)."""
        self._check_writer(cal)
        if not isinstance(body, dict):
            raise E.bad_request("Parse Error", reason="parseError")
        with self.store.tx() as c:
            old, virtual = self._load_for_write(c, cal, event_id)
            self._check_if_match(old, if_match)
            if "id" in body and body["id"] not in (None, event_id):
                raise E.invalid("Invalid resource id value.", location="id")
            if replace:
                ev = {k: copy.deepcopy(v) for k, v in body.items()
                      if k not in READ_ONLY_FIELDS and v is not None}
                for f in ("recurringEventId", "originalStartTime"):
                    if f in old:
                        ev[f] = old[f]
            else:
                ev = copy.deepcopy(old)
                for k, v in body.items():
                    if k in READ_ONLY_FIELDS or k in ("id", "recurringEventId", "originalStartTime"):
                        continue
                    if v is None:
                        ev.pop(k, None)
                    elif k in ("start", "end") or not isinstance(v, dict) or not isinstance(ev.get(k), dict):
                        ev[k] = copy.deepcopy(v)
                    else:
                        _merge(ev[k], v)
            ev["id"] = event_id
            if old.get("recurringEventId"):
                ev["recurringEventId"] = old["recurringEventId"]
                ev["originalStartTime"] = old["originalStartTime"]
                ev.pop("recurrence", None)
            self._validate(ev, cal)
            self._conference(ev, body, old, conference_version)
            self._server_fields(ev, cal, email, old)
            ev["etag"] = old.get("etag")
            only_reminders = {k: v for k, v in ev.items() if k not in ("reminders", "etag")} == \
                {k: v for k, v in old.items() if k not in ("reminders", "etag")}
            if old.get("recurrence") and (old.get("recurrence") != ev.get("recurrence")
                                          or old.get("start") != ev.get("start")):
                self._cancel_removed_instances(c, cal, old, ev)
            return self._write(c, cal, ev, keep_updated=only_reminders and not virtual)

    def _cancel_removed_instances(self, c, cal, old, new):
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
                n_occ, n_all, n_dur = occurrences(new, cal["time_zone"], window_start=horizon_start)
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

    def delete_event(self, cal: dict, event_id: str, if_match: str | None = None):
        self._check_writer(cal)
        with self.store.tx() as c:
            old, virtual = self._load_for_write(c, cal, event_id)
            self._check_if_match(old, if_match)
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

    # ------------------------------------------------------------------ events: list
    def _sync_epoch(self):
        return self.store.kv_get("sync_epoch", 0)

    def make_sync_token(self, cal_id: str, seq: int) -> str:
        return "CP" + _b64({"c": cal_id, "s": seq, "e": self._sync_epoch()})

    def parse_sync_token(self, cal_id: str, token: str) -> int:
        try:
            if not token.startswith("CP"):
                raise ValueError
            d = _unb64(token[2:])
            if d["c"] != cal_id or d["e"] != self._sync_epoch():
                raise ValueError
            return int(d["s"])
        except Exception:
            raise E.full_sync_required()

    def list_events(self, cal: dict, params: dict, instances_of: str | None = None) -> dict:
        tz = cal["time_zone"]
        single = _bool(params.get("singleEvents")) or instances_of is not None
        order = params.get("orderBy")
        sync_token = params.get("syncToken")
        page_token = params.get("pageToken")
        show_deleted = _bool(params.get("showDeleted"))
        if order not in (None, "startTime", "updated"):
            raise E.invalid("Invalid value for: orderBy", location="orderBy")
        if order == "startTime" and not single:
            raise E.bad_request("The requested ordering is not available for the particular query.")
        if sync_token:
            bad = [p for p in ("iCalUID", "orderBy", "privateExtendedProperty", "q", "sharedExtendedProperty",
                               "timeMin", "timeMax", "updatedMin") if params.get(p)]
            if bad:
                raise E.invalid(f"Sync token cannot be used with {bad[0]}.", location=bad[0])
            if params.get("showDeleted") is not None and not show_deleted:
                raise E.invalid("Sync token cannot be used with showDeleted=false.", location="showDeleted")
        try:
            max_results = int(params.get("maxResults") or 250)
        except ValueError:
            raise E.invalid("Invalid value for: maxResults", location="maxResults")
        if max_results < 1:
            raise E.invalid("Invalid value for: maxResults", location="maxResults")
        max_results = min(max_results, 2500)
        tmin = tmax = upd_min = None
        try:
            if params.get("timeMin"):
                tmin = parse_rfc3339(params["timeMin"])
            if params.get("timeMax"):
                tmax = parse_rfc3339(params["timeMax"])
        except ValueError:
            raise E.bad_request("Bad Request")
        if tmin and tmax and tmin >= tmax:
            raise E.time_range_empty()
        if params.get("updatedMin"):
            try:
                upd_min = parse_rfc3339(params["updatedMin"])
            except ValueError:
                raise E.bad_request("Bad Request")
            if upd_min < now() - UPDATED_MIN_MAX_AGE:
                raise E.ApiError(410, "updatedMinTooLongAgo", "The requested minimum modification time lies "
                                 "too far in the past.", domain="calendar", location="updatedMin")
        fingerprint = hashlib.sha1(json.dumps(
            {k: params.get(k) for k in ("singleEvents", "orderBy", "timeMin", "timeMax", "q", "iCalUID",
                                        "privateExtendedProperty", "sharedExtendedProperty", "updatedMin",
                                        "showDeleted")}, sort_keys=True, default=str).encode()).hexdigest()[:12]
        after = None
        if page_token:
            try:
                pt = _unb64(page_token)
                snap, base, after, fp = pt["S"], pt["b"], pt["a"], pt["f"]
            except Exception:
                raise E.invalid("Invalid page token value.", location="pageToken")
            if fp != fingerprint or pt.get("c") != cal["id"]:
                raise E.invalid("Invalid page token value.", location="pageToken")
            if pt.get("e") != self._sync_epoch() and base is not None:
                raise E.full_sync_required()
        else:
            snap = self.store.q1("SELECT change_seq FROM calendars WHERE id=?", (cal["id"],))[0]
            base = self.parse_sync_token(cal["id"], sync_token) if sync_token else None

        if base is not None and instances_of is None:
            rows = self._incremental_rows(cal["id"], base, snap, single)
        elif instances_of is None and (tmin is not None or tmax is not None):
            # prefilter in SQL with a day of slack; exact window semantics are applied below
            lo = tmin.timestamp() - 86400 if tmin is not None else -1e18
            hi = tmax.timestamp() + 86400 if tmax is not None else 1e18
            rows = self.store.q("SELECT seq, data FROM events WHERE calendar_id=? AND seq<=? AND (recurring=1 OR "
                                "recurring_event_id IS NOT NULL OR start_ts IS NULL OR "
                                "(end_ts >= ? AND start_ts < ?))", (cal["id"], snap, lo, hi))
        else:
            rows = self.store.q("SELECT seq, data FROM events WHERE calendar_id=? AND seq<=?", (cal["id"], snap))
        evs = {}
        seqs = {}
        for r in rows:
            ev = json.loads(r["data"])
            evs[ev["id"]] = ev
            seqs[ev["id"]] = r["seq"]
        incremental = base is not None
        changed = {i for i, s in seqs.items() if s > base} if incremental else None
        exceptions: dict[str, dict] = {}
        for ev in evs.values():
            if ev.get("recurringEventId") and ev["recurringEventId"] in evs:
                exceptions.setdefault(ev["recurringEventId"], {})[ev["id"]] = ev
        include_cancelled = show_deleted or incremental or upd_min is not None

        def in_window(ev):  # instances() also keeps events ending exactly at timeMin
            return incremental or _overlaps(ev, tz, tmin, tmax, closed=instances_of is not None)

        items: list[dict] = []
        if instances_of is not None:
            master = evs.get(instances_of)
            if master is None:
                raise E.not_found()
            if master.get("recurrence"):
                for inst in self._expand(cal, master, exceptions.get(master["id"], {}), tmin, tmax):
                    if master.get("status") == "cancelled":
                        inst = dict(inst, status="cancelled")
                    items.append(inst)
            else:
                items.append(master)
            include_cancelled = show_deleted
        elif not single:
            for ev in evs.values():
                if incremental and ev["id"] not in changed:
                    continue
                if ev.get("status") == "cancelled" and not include_cancelled and not ev.get("recurringEventId"):
                    continue
                if ev.get("recurrence") and not incremental and (tmin or tmax):
                    if not self._series_overlaps(cal, ev, exceptions.get(ev["id"], {}), tmin, tmax):
                        continue
                elif not in_window(ev):
                    continue
                items.append(ev)
        else:
            for ev in evs.values():
                rid = ev.get("recurringEventId")
                if rid and rid in evs:
                    if incremental and ev["id"] in changed:  # may repeat its master's expansion; deduped below
                        items.append(ev if evs[rid].get("status") != "cancelled" else dict(ev, status="cancelled"))
                    continue
                if ev.get("recurrence"):
                    if incremental and ev["id"] not in changed:
                        continue
                    cancelled = ev.get("status") == "cancelled"
                    if cancelled and include_cancelled:
                        items.append(ev)
                    win_min, win_max = (tmin, tmax) if not incremental else (now() - dt.timedelta(
                        days=HORIZON_PAST_DAYS), None)
                    for inst in self._expand(cal, ev, exceptions.get(ev["id"], {}), win_min, win_max):
                        if cancelled:
                            inst = dict(inst, status="cancelled")
                        items.append(inst)
                    continue
                if incremental and ev["id"] not in changed:
                    continue
                items.append(ev)
            if incremental:
                dedup = {}
                for i in items:
                    dedup[i["id"]] = i
                items = list(dedup.values())
        # common filters
        priv = params.get("privateExtendedProperty") or []
        shared = params.get("sharedExtendedProperty") or []
        priv = [priv] if isinstance(priv, str) else priv
        shared = [shared] if isinstance(shared, str) else shared
        q = (params.get("q") or "").lower()
        out = []
        for ev in items:
            cancelled = ev.get("status") == "cancelled"
            if cancelled and not include_cancelled and (single or not ev.get("recurringEventId")):
                continue
            if (single or instances_of) and not in_window(ev):
                continue
            if not _props_match(ev, "private", priv) or not _props_match(ev, "shared", shared):
                continue
            if params.get("iCalUID") and ev.get("iCalUID") != params["iCalUID"]:
                continue
            if q and not any(q in str(ev.get(f) or "").lower() for f in ("summary", "description", "location")):
                continue
            if upd_min is not None and parse_rfc3339(ev["updated"]) < upd_min:
                continue
            out.append(ev)

        def key(ev):
            if order == "updated":
                return [ev.get("updated", ""), ev["id"]]
            t = ev.get("start") or ev.get("originalStartTime")
            try:
                ts = bound(t, tz).timestamp()
            except (ValueError, KeyError, TypeError):
                ts = 0.0
            return [ts, ev["id"]]

        keyed = sorted(((key(ev), ev) for ev in out), key=lambda x: x[0])
        if after is not None:
            keyed = [kv for kv in keyed if kv[0] > after]
        page = keyed[:max_results]
        result = {"kind": "calendar#events", "etag": '"p%d"' % (snap * 1000 + len(page)),
                  "summary": cal["summary"], "description": cal.get("description") or "",
                  "updated": max([ev.get("updated", "") for _, ev in page], default=fmt_utc(now())),
                  "timeZone": tz, "accessRole": cal["access_role"],
                  "defaultReminders": DEFAULT_REMINDERS if cal["access_role"] in WRITER_ROLES else [],
                  "items": [ev for _, ev in page]}
        if len(keyed) > max_results:
            result["nextPageToken"] = _b64({"c": cal["id"], "S": snap, "b": base, "a": page[-1][0],
                                            "f": fingerprint, "e": self._sync_epoch()})
        elif instances_of is None:
            result["nextSyncToken"] = self.make_sync_token(cal["id"], snap)
        return result

    def _incremental_rows(self, cal_id, base, snap, single):
        """Rows changed in (base, snap], plus (for singleEvents) the series they belong to."""
        rows = list(self.store.q("SELECT seq, id, recurring_event_id, data FROM events WHERE calendar_id=? "
                                 "AND seq>? AND seq<=?", (cal_id, base, snap)))
        if not single:
            return rows
        masters = {r["recurring_event_id"] or r["id"] for r in rows}
        have = {r["id"] for r in rows}
        extra = []
        ml = list(masters)
        for i in range(0, len(ml), 400):
            chunk = ml[i:i + 400]
            marks = ",".join("?" * len(chunk))
            extra += self.store.q(f"SELECT seq, id, recurring_event_id, data FROM events WHERE calendar_id=? AND "
                                  f"seq<=? AND (id IN ({marks}) OR recurring_event_id IN ({marks}))",
                                  (cal_id, snap, *chunk, *chunk))
        return rows + [r for r in extra if r["id"] not in have]

    def _series_overlaps(self, cal, master, exceptions, tmin, tmax) -> bool:
        return any(_overlaps(i, cal["time_zone"], tmin, tmax)
                   for i in self._expand(cal, master, exceptions, tmin, tmax))

    def dump(self, cal_id: str) -> list:
        return [dict(json.loads(r["data"]), _seq=r["seq"]) for r in
                self.store.q("SELECT seq, data FROM events WHERE calendar_id=? ORDER BY seq", (cal_id,))]


HORIZON_PAST_DAYS = 366


def _overlaps(ev, tz, tmin, tmax, closed=False):
    """Whether an event falls in [tmin, tmax); undated events always do (see timeutil.overlaps)."""
    if tmin is None and tmax is None:  # no window: skip parsing the times
        return True
    t = ev.get("start") or ev.get("originalStartTime")
    try:
        s, e = bound(t, tz), bound(ev.get("end") or t, tz)
    except (ValueError, KeyError, TypeError):
        return True
    return overlaps(s, e, tmin, tmax, closed)


def _merge(dst: dict, src: dict):
    """PATCH semantics: nested objects merge, arrays replace, null clears."""
    for k, v in src.items():
        if v is None:
            dst.pop(k, None)
        elif isinstance(v, dict) and isinstance(dst.get(k), dict):
            _merge(dst[k], v)
        else:
            dst[k] = copy.deepcopy(v)


def _props_match(ev, kind, filters) -> bool:
    if not filters:
        return True
    props = (ev.get("extendedProperties") or {}).get(kind) or {}
    for f in filters:
        k, sep, v = f.partition("=")
        if not sep or props.get(k) != v:
            return False
    return True
