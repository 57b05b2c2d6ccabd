"""A person's Google Calendar: week view and event forms at /calendar.

Every change goes through CalendarService (the same code as the API), so UI edits
get new etags, `updated`, change sequence numbers (sync tokens) and push notifications
exactly like API edits. Plain server-rendered forms with stable ids for browser tests.
"""
from __future__ import annotations

import datetime as dt
import urllib.parse
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, redirect, request
from werkzeug.wrappers import Response as WerkzeugResponse

from . import errors as E
from .context import current_emulator as emu
from .service_core import Calendar, Event
from .timeutil import UTC, bound, overlaps, parse_rfc3339, zone
from .ui_base import page

bp = Blueprint("ui", __name__, url_prefix="/calendar")


def _url(path: str, **params: str | None) -> str:
    return path + "?" + urllib.parse.urlencode({k: v for k, v in params.items() if v not in (None, "")})


HEADER = """<nav id="top-nav"><a href="/calendar" id="home-link">Calendar</a>
{% if account %}<span id="current-account">{{ account }}</span>{% endif %}</nav>
<form method="get" action="/calendar" id="pick-form">
<label>Account <select name="account" id="account-select">
{% for a in accounts %}<option value="{{ a.email }}" {% if a.email == account %}selected{% endif %}>{{ a.name }}
 &lt;{{ a.email }}&gt;</option>{% endfor %}</select></label>
{% if calendars %}<label>Calendar <select name="cal" id="calendar-select">
{% for c in calendars %}<option value="{{ c.id }}" {% if c.id == cal_id %}selected{% endif %}>{{ c.summary }}
 ({{ c.access_role }})</option>{% endfor %}</select></label>{% endif %}
<button type="submit" id="pick-button">Open</button></form>"""

WEEK = HEADER + """
{% if cal %}
<h1 id="week-title">{{ cal.summary }} &middot; week of {{ days[0].isoformat() }}</h1>
<p><a id="prev-week" href="{{ prev_url }}">&larr; Previous week</a>
<a id="today-link" href="{{ today_url }}">Today</a>
<a id="next-week" href="{{ next_url }}">Next week &rarr;</a>
{% if writable %}<a id="new-event" href="{{ new_url }}">+ New event</a>{% endif %}
<span class="muted">Time zone: {{ cal.time_zone }}</span></p>
<table class="week" id="week"><tr>{% for d in days %}
<th data-date="{{ d.isoformat() }}">{{ d.strftime('%a %d %b') }}</th>
{% endfor %}</tr><tr>{% for d in days %}<td class="day" data-date="{{ d.isoformat() }}" id="day-{{ d.isoformat() }}">
{% for ev in by_day[d] %}<div class="ev{% if ev.allday %} allday{% endif %}" data-event-id="{{ ev.id }}"
 data-summary="{{ ev.summary }}"{% if ev.recurring %} data-recurring-event-id="{{ ev.recurring }}"{% endif %}>
<b class="ev-summary">{{ ev.summary }}</b><br><span class="ev-time">{{ ev.label }}</span>
{% if ev.recurring %}<span class="muted">&#x21bb;</span>{% endif %}
{% if writable %}<br><a class="edit-link" href="{{ ev.edit_url }}">Edit</a>
{% if ev.recurring %}<a class="edit-series-link" href="{{ ev.series_url }}">Edit series</a>{% endif %}
<form method="post" action="/calendar/event/delete" class="delete-form">
<input type="hidden" name="account" value="{{ account }}"><input type="hidden" name="cal" value="{{ cal_id }}">
<input type="hidden" name="event" value="{{ ev.id }}"><input type="hidden" name="week" value="{{ week }}">
<button type="submit" class="delete-button" name="scope" value="this">Delete{% if ev.recurring %} this
 occurrence{% endif %}</button>
{% if ev.recurring %}<button type="submit" class="delete-series-button" name="scope" value="series">Delete
 series</button>{% endif %}</form>{% endif %}
</div>{% endfor %}</td>{% endfor %}</tr></table>
{% elif account %}<p>Pick a calendar.</p>{% else %}<p id="pick-account">Pick an account to open its calendar.</p>
{% endif %}"""

FORM = HEADER + """
<h1 id="form-title">{{ 'Edit event' if event_id else 'New event' }}</h1>
{% if error %}<p class="error" id="form-error">{{ error }}</p>{% endif %}
<form method="post" action="/calendar/event/save" id="event-form">
<input type="hidden" name="account" value="{{ account }}"><input type="hidden" name="cal" value="{{ cal_id }}">
<input type="hidden" name="event" value="{{ event_id or '' }}"><input type="hidden" name="week" value="{{ week }}">
<label>Title <input type="text" name="summary" id="summary" value="{{ f.summary }}"></label>
<label>Description <textarea name="description" id="description">{{ f.description }}</textarea></label>
<label>Location <input type="text" name="location" id="location" value="{{ f.location }}"></label>
<label><input type="checkbox" name="all_day" id="all-day" value="1" {% if f.all_day %}checked{% endif %}>
 All day</label>
<label>Start <input type="date" name="start_date" id="start-date" value="{{ f.start_date }}">
<input type="time" name="start_time" id="start-time" value="{{ f.start_time }}"></label>
<label>End <input type="date" name="end_date" id="end-date" value="{{ f.end_date }}">
<input type="time" name="end_time" id="end-time" value="{{ f.end_time }}"></label>
<label>Time zone <input type="text" name="time_zone" id="time-zone" value="{{ f.time_zone }}"></label>
{% if not f.is_instance %}<label>Repeat <select name="repeat" id="repeat">
{% for v, t in [('none','Does not repeat'),('daily','Daily'),('weekly','Weekly'),('custom','Custom (keep rule)')] %}
<option value="{{ v }}" {% if f.repeat == v %}selected{% endif %}>{{ t }}</option>{% endfor %}</select></label>
<label>Occurrences (empty = forever) <input type="number" min="1" name="repeat_count" id="repeat-count"
 value="{{ f.repeat_count }}"></label>{% else %}<p class="muted" id="instance-note">Editing one occurrence of a
 recurring event.</p>{% endif %}
<button type="submit" class="primary" id="save" name="action" value="save">Save</button>
<a href="{{ back_url }}" id="cancel-edit">Cancel</a></form>"""


def _accounts() -> list[dict]:
    return [dict(r) for r in emu().store.q("SELECT email, name FROM accounts ORDER BY created, email")]


def _calendars(email: str) -> list[dict]:
    return [dict(r) for r in emu().store.q(
        "SELECT c.id, c.summary, l.access_role FROM calendar_list l JOIN calendars c ON c.id=l.calendar_id "
        "WHERE l.email=? ORDER BY l.is_primary DESC, c.summary", (email,))]


def _monday(d: dt.date) -> dt.date:
    return d - dt.timedelta(days=d.weekday())


def _ctx() -> dict[str, Any]:
    src = request.values
    account = (src.get("account") or "").lower()
    accounts = _accounts()
    if not account and len(accounts) == 1:
        account = accounts[0]["email"]
    cals = _calendars(account) if account else []
    cal_id = src.get("cal") or (cals[0]["id"] if cals else "")
    cal = None
    if account and cal_id:
        try:
            cal = emu().service.resolve(account, cal_id)
        except E.ApiError:
            cal = None
    tz = zone(cal["time_zone"]) if cal else UTC
    try:
        week = _monday(dt.date.fromisoformat(src.get("week")))
    except (TypeError, ValueError):
        week = _monday(dt.datetime.now(tz).date())
    return dict(account=account, accounts=accounts, calendars=cals, cal_id=cal_id, cal=cal, week=week.isoformat(),
                week_date=week)


@bp.get("")
@bp.get("/")
def week_view() -> Response | WerkzeugResponse:
    c = _ctx()
    days, by_day = [], {}
    if c["cal"]:
        cal, tz = c["cal"], zone(c["cal"]["time_zone"]) or UTC
        days = [c["week_date"] + dt.timedelta(days=i) for i in range(7)]
        by_day = {d: [] for d in days}
        tmin = dt.datetime.combine(days[0], dt.time(), tz)
        tmax = tmin + dt.timedelta(days=7)
        res = emu().service.list_events(cal, {"singleEvents": "true", "orderBy": "startTime", "maxResults": "2500",
                                              "timeMin": tmin.isoformat(), "timeMax": tmax.isoformat()})
        for ev in res["items"]:
            try:
                s, e = bound(ev["start"], cal["time_zone"]), bound(ev["end"], cal["time_zone"])
            except (KeyError, ValueError):
                continue
            allday = bool(ev["start"].get("date"))
            label = "All day" if allday else (s.astimezone(tz).strftime("%H:%M") + "–" +
                                              e.astimezone(tz).strftime("%H:%M"))
            item = dict(id=ev["id"], summary=ev.get("summary") or "(No title)", allday=allday, label=label,
                        recurring=ev.get("recurringEventId"),
                        edit_url=_url("/calendar/event/edit", account=c["account"], cal=c["cal_id"], event=ev["id"],
                                      week=c["week"]),
                        series_url=_url("/calendar/event/edit", account=c["account"], cal=c["cal_id"],
                                        event=ev.get("recurringEventId"), week=c["week"]))
            for d in days:
                ds = dt.datetime.combine(d, dt.time(), tz)
                if overlaps(s, e, ds, ds + dt.timedelta(days=1)):
                    by_day[d].append(item)
    mk = lambda w: _url("/calendar", account=c["account"], cal=c["cal_id"], week=w)  # noqa: E731
    wd = c["week_date"]
    return page(WEEK, "Calendar", days=days, by_day=by_day, writable=bool(c["cal"]) and c["cal"]["access_role"]
                in ("owner", "writer"), prev_url=mk((wd - dt.timedelta(days=7)).isoformat()),
                next_url=mk((wd + dt.timedelta(days=7)).isoformat()), today_url=mk(""),
                new_url=_url("/calendar/event/new", account=c["account"], cal=c["cal_id"], week=c["week"]), **c)


def _form_from_event(ev: Event, cal: Calendar) -> dict[str, Any]:
    tz = zone(cal["time_zone"]) or UTC
    f = dict(summary=ev.get("summary", ""), description=ev.get("description", ""), location=ev.get("location", ""),
             all_day=bool(ev["start"].get("date")), time_zone=ev["start"].get("timeZone") or cal["time_zone"],
             is_instance=bool(ev.get("recurringEventId")), repeat="none", repeat_count="")
    if f["all_day"]:
        f.update(start_date=ev["start"]["date"], start_time="",
                 end_date=(dt.date.fromisoformat(ev["end"]["date"]) - dt.timedelta(days=1)).isoformat(), end_time="")
    else:
        etz = zone(f["time_zone"]) or tz
        s = parse_rfc3339(ev["start"]["dateTime"], require_offset=False)
        e = parse_rfc3339(ev["end"]["dateTime"], require_offset=False)
        s = s.astimezone(etz) if s.tzinfo else s
        e = e.astimezone(etz) if e.tzinfo else e
        f.update(start_date=s.date().isoformat(), start_time=s.strftime("%H:%M"), end_date=e.date().isoformat(),
                 end_time=e.strftime("%H:%M"))
    rec = ev.get("recurrence") or []
    if rec:
        f["repeat"] = "custom"
        if len(rec) == 1 and rec[0].startswith("RRULE:"):
            parts = dict(p.split("=", 1) for p in rec[0][6:].split(";") if "=" in p)
            if set(parts) <= {"FREQ", "COUNT"} and parts.get("FREQ") in ("DAILY", "WEEKLY"):
                f["repeat"] = parts["FREQ"].lower()
                f["repeat_count"] = parts.get("COUNT", "")
    return f


@bp.get("/event/new")
def new_event() -> Response | WerkzeugResponse:
    c = _ctx()
    if not c["cal"]:
        return redirect("/calendar")
    d = c["week_date"] if c["week_date"] > dt.date.today() else dt.date.today()
    f = dict(summary="", description="", location="", all_day=False, start_date=d.isoformat(), start_time="10:00",
             end_date=d.isoformat(), end_time="11:00", time_zone=c["cal"]["time_zone"], repeat="none",
             repeat_count="", is_instance=False)
    return page(FORM, "New event", f=f, event_id=None, error=None, back_url=_back(c), **c)


@bp.get("/event/edit")
def edit_event() -> Response | WerkzeugResponse:
    c = _ctx()
    if not c["cal"]:
        return redirect("/calendar")
    try:
        ev = emu().service.get_event(c["cal"], request.args.get("event", ""))
    except E.ApiError:
        return page("<p class='error' id='form-error'>Event not found.</p>", "Calendar", status=404)
    return page(FORM, "Edit event", f=_form_from_event(ev, c["cal"]), event_id=ev["id"], error=None,
                back_url=_back(c), **c)


def _back(c: dict[str, Any]) -> str:
    return _url("/calendar", account=c["account"], cal=c["cal_id"], week=c["week"])


def _body_from_form(form: Mapping[str, str], existing: Event | None) -> dict[str, Any]:
    tzname = form.get("time_zone") or "UTC"
    body = {"summary": form.get("summary", ""), "description": form.get("description") or None,
            "location": form.get("location") or None}
    sd, ed = form.get("start_date"), form.get("end_date") or form.get("start_date")
    if form.get("all_day"):
        end = (dt.date.fromisoformat(ed) + dt.timedelta(days=1)).isoformat() if ed else None
        body["start"], body["end"] = {"date": sd}, {"date": end}
    else:
        body["start"] = {"dateTime": f"{sd}T{form.get('start_time') or '00:00'}:00", "timeZone": tzname}
        body["end"] = {"dateTime": f"{ed}T{form.get('end_time') or '00:00'}:00", "timeZone": tzname}
    if not (existing or {}).get("recurringEventId"):
        rep = form.get("repeat", "none")
        if rep in ("daily", "weekly"):
            rule = "RRULE:FREQ=" + rep.upper()
            if (form.get("repeat_count") or "").strip().isdigit():
                rule += ";COUNT=" + form["repeat_count"].strip()
            body["recurrence"] = [rule]
        elif rep == "none":
            body["recurrence"] = None
    return body


@bp.post("/event/save")
def save_event() -> Response | WerkzeugResponse:
    c = _ctx()
    if not c["cal"]:
        return redirect("/calendar")
    svc, form = emu().service, request.form
    event_id = form.get("event") or None
    existing = None  # stays None when the event id is unknown (get_event raises)
    try:
        existing = svc.get_event(c["cal"], event_id) if event_id else None
        body = _body_from_form(form, existing)
        if body["start"].get("date") is None and body["start"].get("dateTime") is None:
            raise E.required("Missing start time.")
        if existing:
            svc.modify_event(c["cal"], c["account"], event_id, body, replace=False)
        else:
            svc.insert_event(c["cal"], c["account"], {k: v for k, v in body.items() if v is not None})
    except (E.ApiError, ValueError) as err:
        f = dict(form.to_dict(), all_day=bool(form.get("all_day")),
                 is_instance=bool(existing and existing.get("recurringEventId")))
        f.setdefault("repeat", "none")
        msg = getattr(err, "message", None) or "Invalid date or time."
        return page(FORM, "Event", status=400, f=f, event_id=event_id, error=msg, back_url=_back(c), **c)
    return redirect(_back(c))


@bp.post("/event/delete")
def delete_event() -> Response | WerkzeugResponse:
    c = _ctx()
    if not c["cal"]:
        return redirect("/calendar")
    svc, event_id = emu().service, request.form.get("event", "")
    try:
        if request.form.get("scope") == "series":
            ev = svc.get_event(c["cal"], event_id)
            event_id = ev.get("recurringEventId") or event_id
        svc.delete_event(c["cal"], event_id)
    except E.ApiError as err:
        return page(f"<p class='error' id='form-error'>{err.message}</p>", "Calendar", status=err.code)
    return redirect(_back(c))
