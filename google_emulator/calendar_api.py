"""Calendar API v3 REST surface: routing, auth, scopes, controls, then the CalendarService.

`handle_call` is the single code path for a Calendar request; the Flask route and
each inner request of a batch both go through it, so counters, latency, faults,
quotas, auth and scope checks behave identically.
"""
from __future__ import annotations

import json
import logging
import re
import traceback
import urllib.parse
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, request

from . import errors as E
from .discovery import AUTH, method_scopes, patched_document
from .oauth import validate_access_token

bp = Blueprint("calendar_api", __name__)
log = logging.getLogger(__name__)
PREFIX = "/calendar/v3/"
LIST_PARAMS = {"privateExtendedProperty", "sharedExtendedProperty", "eventTypes"}

CAL = r"calendars/(?P<calendarId>[^/]+)"
EVENT = CAL + r"/events/(?P<eventId>[^/]+)"
# (http method, regex on the path below /calendar/v3/, method id)
ROUTES = [
    ("GET", r"users/me/calendarList", "calendar.calendarList.list"),
    ("GET", r"users/me/calendarList/(?P<calendarId>[^/]+)", "calendar.calendarList.get"),
    ("POST", r"calendars", "calendar.calendars.insert"),
    ("GET", CAL, "calendar.calendars.get"),
    ("GET", CAL + "/events", "calendar.events.list"),
    ("POST", CAL + "/events", "calendar.events.insert"),
    ("POST", CAL + "/events/watch", "calendar.events.watch"),
    ("GET", EVENT + "/instances", "calendar.events.instances"),
    ("GET", EVENT, "calendar.events.get"),
    ("PATCH", EVENT, "calendar.events.patch"),
    ("PUT", EVENT, "calendar.events.update"),
    ("DELETE", EVENT, "calendar.events.delete"),
    ("POST", r"channels/stop", "calendar.channels.stop"),
]
ROUTE_TEMPLATES = {mid: re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", p) for _m, p, mid in ROUTES}
COMPILED = [(m, re.compile("^" + p + "$"), mid) for m, p, mid in ROUTES]
RESTRICTED = {AUTH + "calendar.app.created", AUTH + "calendar.events.owned", AUTH + "calendar.events.owned.readonly"}


@dataclass
class Caller:
    email: str
    client_id: str
    scopes: set


def emu():
    return current_app.extensions["google_emulator"]


def _json_response(status, obj, extra=None):
    body = b"" if obj is None else json.dumps(obj, indent=1).encode()
    headers = {"Vary": "Origin, X-Origin, Referer"}
    if obj is not None:
        headers["Content-Type"] = "application/json; charset=UTF-8"
    headers.update(extra or {})
    return status, headers, body


def _match(method, path):
    for m, rx, mid in COMPILED:
        if m != method:
            continue
        mt = rx.match(path)
        if mt:
            return mid, {k: urllib.parse.unquote(v) for k, v in mt.groupdict().items()}
    return None, None


def _params(query: dict) -> dict:
    out = {}
    for k, vals in query.items():
        if k in ("alt", "prettyPrint", "quotaUser", "fields", "key", "userIp", "oauth_token"):
            continue
        out[k] = list(vals) if k in LIST_PARAMS else vals[-1]
    return out


def handle_call(method: str, raw_path: str, query: dict, headers, body: bytes, inner: bool = False):
    """Execute one Calendar call; returns (status, headers, body bytes). Never raises."""
    e = emu()
    method = method.upper()
    path = raw_path[len(PREFIX):] if raw_path.startswith(PREFIX) else raw_path.lstrip("/")
    method_id, pp = _match(method, path)
    try:
        if method_id is None:
            raise E.not_found()
        e.controls.count(f"http:{method} {PREFIX}{ROUTE_TEMPLATES[method_id]}")
        e.controls.before_call(method_id, f"{method} {PREFIX}{path}", inner=inner)
        auth = headers.get("Authorization") or headers.get("authorization") or ""
        if not auth:
            raise E.login_required()
        if not auth.lower().startswith("bearer "):
            raise E.auth_error()
        v = validate_access_token(e.store, auth[7:].strip())
        if not v:
            raise E.auth_error()
        caller = Caller(*v)
        allowed = caller.scopes & method_scopes().get(method_id, set())
        if not allowed:
            raise E.insufficient_scopes()
        e.controls.check_quota(caller.email)
        params = _params(query)
        payload = None
        if method in ("POST", "PUT", "PATCH"):
            try:
                payload = json.loads(body.decode("utf-8")) if body and body.strip() else {}
            except (ValueError, UnicodeDecodeError):
                raise E.bad_request("Parse Error", reason="parseError")
        return _dispatch(e, caller, allowed, method_id, pp, params, payload, headers)
    except E.ApiError as err:
        return _json_response(err.code, err.body(method_id), err.headers)
    except Exception:  # a bug must still look like Google's 500
        log.error("emulator error: %s", traceback.format_exc())
        err = E.ApiError(500, "backendError", "Backend Error")
        return _json_response(500, err.body(method_id))


def _check_restricted(caller: Caller, allowed: set, cal: dict):
    """calendar.app.created / events.owned only reach app-created / owned calendars."""
    if not allowed <= RESTRICTED:
        return
    if AUTH + "calendar.app.created" in allowed and cal.get("created_by_client") == caller.client_id:
        return
    if allowed & {AUTH + "calendar.events.owned", AUTH + "calendar.events.owned.readonly"} \
            and cal["access_role"] == "owner":
        return
    raise E.insufficient_scopes()


def _dispatch(e, caller, allowed, mid, pp, params, payload, headers):
    svc = e.service
    def hget(k):
        return (headers.get(k) or headers.get(k.lower()))
    conf_v = int(params.get("conferenceDataVersion") or 0) if str(
        params.get("conferenceDataVersion") or "0").isdigit() else 0
    if mid == "calendar.calendarList.list":
        return _json_response(200, svc.calendar_list(caller.email, params))
    if mid == "calendar.calendars.insert":
        return _json_response(200, svc.insert_calendar(caller.email, caller.client_id, payload))
    if mid == "calendar.channels.stop":
        e.notifier.stop(caller.email, payload)
        return _json_response(204, None)
    cal = svc.resolve(caller.email, pp["calendarId"])
    _check_restricted(caller, allowed, cal)
    if mid == "calendar.calendarList.get":
        return _json_response(200, svc.calendar_list_entry(cal))
    if mid == "calendar.calendars.get":
        return _json_response(200, svc.calendar_resource(cal))
    if mid == "calendar.events.list":
        return _json_response(200, svc.list_events(cal, params))
    if mid == "calendar.events.watch":
        return _json_response(200, e.notifier.watch(caller.email, caller.client_id, cal, payload))
    if mid == "calendar.events.insert":
        ev = svc.insert_event(cal, caller.email, payload, conf_v)
        return _json_response(200, ev, {"ETag": ev["etag"]})
    eid = pp["eventId"]
    if mid == "calendar.events.get":
        ev = svc.get_event(cal, eid)
        inm = hget("If-None-Match")
        if inm and ev.get("etag") in [t.strip() for t in inm.split(",")]:
            return 304, {"ETag": ev["etag"]}, b""
        return _json_response(200, ev, {"ETag": ev["etag"]})
    if mid == "calendar.events.instances":
        return _json_response(200, svc.list_events(cal, params, instances_of=eid))
    if mid in ("calendar.events.patch", "calendar.events.update"):
        ev = svc.modify_event(cal, caller.email, eid, payload, replace=mid.endswith("update"),
                              if_match=hget("If-Match"), conference_version=conf_v)
        return _json_response(200, ev, {"ETag": ev["etag"]})
    if mid == "calendar.events.delete":
        svc.delete_event(cal, eid, if_match=hget("If-Match"))
        return _json_response(204, None)
    raise E.not_found()


def _flask_response(status, headers, body):
    r = Response(body, status=status)
    for k, v in headers.items():
        r.headers[k] = v
    if "Content-Type" not in headers:
        r.headers.pop("Content-Type", None)
    return r


@bp.route("/calendar/v3/<path:sub>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def calendar_v3(sub):
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.full_path
    raw_path = urllib.parse.urlsplit(raw).path or request.path
    if not raw_path.startswith(PREFIX):
        raw_path = request.path
    query = {k: request.args.getlist(k) for k in request.args.keys()}
    return _flask_response(*handle_call(request.method, raw_path, query, request.headers, request.get_data()))


@bp.get("/discovery/v1/apis/calendar/v3/rest")
@bp.get("/$discovery/rest")
def discovery_doc():
    return Response(json.dumps(patched_document(emu().base_url)), mimetype="application/json")
