"""Calendar API v3 REST surface: routing, auth, scopes, controls and limits around each handler.

`handle_call` is the single code path for a Calendar request; the Flask route and each inner request
of a batch both go through it, so counters, latency, faults, quotas, use limits, auth, scope checks
and `fields` behave identically.
"""
from __future__ import annotations

import json
import logging
import re
import traceback
import urllib.parse
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, request

from . import errors as E
from .api_handlers import ROUTES, Call, Caller, Route
from .context import current_emulator
from .discovery import method_scopes, patched_document
from .fields import parse_fields, select
from .oauth_tokens import validate_access_token

bp = Blueprint("calendar_api", __name__)
log = logging.getLogger(__name__)
PREFIX = "/calendar/v3/"
LIST_PARAMS = {"privateExtendedProperty", "sharedExtendedProperty", "eventTypes"}
IGNORED_PARAMS = {"alt", "prettyPrint", "quotaUser", "fields", "key", "userIp", "oauth_token"}
TEMPLATES = {r.method_id: re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", r.pattern) for r in ROUTES}
COMPILED = [(re.compile("^" + r.pattern + "$"), r) for r in ROUTES]
Answer = tuple[int, dict[str, str], bytes]


def _json_response(status: int, obj: dict | None, extra: Mapping[str, str] | None = None) -> Answer:
    body = b"" if obj is None else json.dumps(obj, indent=1).encode()
    headers = {"Vary": "Origin, X-Origin, Referer"}
    if obj is not None:
        headers["Content-Type"] = "application/json; charset=UTF-8"
    headers.update(extra or {})
    return status, headers, body


def _match(method: str, path: str) -> tuple[Route | None, dict[str, str]]:
    for rx, route in COMPILED:
        if route.http_method == method:
            mt = rx.match(path)
            if mt:
                return route, {k: urllib.parse.unquote(v) for k, v in mt.groupdict().items()}
    return None, {}


def _params(query: Mapping[str, list[str]]) -> dict[str, Any]:
    return {k: list(vals) if k in LIST_PARAMS else vals[-1] for k, vals in query.items() if k not in IGNORED_PARAMS}


def _caller(headers: Mapping[str, str]) -> Caller:
    auth = headers.get("Authorization") or headers.get("authorization") or ""
    if not auth:
        raise E.login_required()
    if not auth.lower().startswith("bearer "):
        raise E.auth_error()
    v = validate_access_token(current_emulator().store, auth[7:].strip())
    if not v:
        raise E.auth_error()
    return Caller(*v)


def handle_call(method: str, raw_path: str, query: Mapping[str, list[str]], headers: Mapping[str, str],
                body: bytes, inner: bool = False) -> Answer:
    """Execute one Calendar call; returns (status, headers, body bytes). Never raises."""
    e = current_emulator()
    method = method.upper()
    path = raw_path[len(PREFIX):] if raw_path.startswith(PREFIX) else raw_path.lstrip("/")
    route, path_params = _match(method, path)
    method_id = route.method_id if route else None
    try:
        if route is None:
            raise E.not_found()
        e.controls.count(f"http:{method} {PREFIX}{TEMPLATES[route.method_id]}")
        e.controls.before_call(route.method_id, f"{method} {PREFIX}{path}", inner=inner)
        caller = _caller(headers)
        allowed = caller.scopes & method_scopes().get(route.method_id, set())
        if not allowed:
            raise E.insufficient_scopes()
        try:
            e.controls.limits.admit_request(caller.email, caller.client_id)
        except E.ApiError:
            e.controls.count("rate_limited")  # what a bench reads: rate-limit answers the client received
            raise
        fields = query.get("fields", [""])[-1]
        selection = parse_fields(fields) if fields else None
        payload = None
        if method in ("POST", "PUT", "PATCH"):
            try:
                payload = json.loads(body.decode("utf-8")) if body and body.strip() else {}
            except (ValueError, UnicodeDecodeError):
                raise E.bad_request("Parse Error", reason="parseError")
        if route.writes:
            e.controls.limits.check_write(caller.email, route.creates)
        status, obj, extra = route.handler(Call(e, caller, allowed, path_params, _params(query), payload, headers))
        if route.creates:
            e.controls.limits.record_creation(caller.email, route.creates)
        return _json_response(status, select(obj, selection) if obj is not None else None, extra)
    except E.ApiError as err:
        return _json_response(err.code, err.body(method_id), err.headers)
    except Exception:  # a bug must still look like Google's 500
        log.error("emulator error: %s", traceback.format_exc())
        return _json_response(500, E.ApiError(500, "backendError", "Backend Error").body(method_id))


def _flask_response(status: int, headers: Mapping[str, str], body: bytes) -> Response:
    r = Response(body, status=status)
    for k, v in headers.items():
        r.headers[k] = v
    if "Content-Type" not in headers:
        r.headers.pop("Content-Type", None)
    return r


@bp.route("/calendar/v3/<path:sub>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def calendar_v3(sub: str) -> Response:
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.full_path
    raw_path = urllib.parse.urlsplit(raw).path or request.path
    if not raw_path.startswith(PREFIX):
        raw_path = request.path
    query = {k: request.args.getlist(k) for k in request.args.keys()}
    return _flask_response(*handle_call(request.method, raw_path, query, request.headers, request.get_data()))


@bp.get("/discovery/v1/apis/calendar/v3/rest")
@bp.get("/$discovery/rest")
def discovery_doc() -> Response:
    return Response(json.dumps(patched_document(current_emulator().base_url)), mimetype="application/json")
