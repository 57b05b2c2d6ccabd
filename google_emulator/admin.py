"""Admin JSON API under /_emulator/ for tests and benchmarks (404 unless started with --admin).

`health` is always available so launchers can wait for the server.
"""
from __future__ import annotations

import json
import os
import time

from flask import Blueprint, Response, abort, jsonify, request

from .context import Emulator
from .context import current_emulator as emu
from .discovery import normalize_scope
from .oauth_tokens import issue_tokens, revoke_user
from .storage import Store

bp = Blueprint("admin", __name__, url_prefix="/_emulator")

DEMO_ACCOUNTS = [
    ("alex@example.com", "Alex Client"),
    ("sam@example.com", "Sam Staff"),
    ("jordan@example.com", "Jordan Client"),
    ("taylor@example.com", "Taylor Staff"),
    ("casey@example.com", "Casey Client"),
]


@bp.before_request
def _gate() -> None:
    if request.endpoint != "admin.health" and not emu().admin_enabled:
        abort(404)


def _body() -> dict:
    return request.get_json(silent=True) or {}


def _bad(msg: str) -> Response:
    r = jsonify({"error": msg})
    r.status_code = 400
    return r


def register_client(store: Store, client_id: str, client_secret: str, redirect_uris: list[str],
                    name: str = "My Portal App") -> None:
    with store.tx() as c:
        c.execute("INSERT OR REPLACE INTO clients(client_id, client_secret, name, redirect_uris) VALUES (?,?,?,?)",
                  (client_id, client_secret, name or "My Portal App", json.dumps(list(redirect_uris))))


def seed_demo(e: Emulator) -> list[str]:
    """Demo accounts plus the OAuth client described by EMULATOR_CLIENT_* env vars (if set)."""
    for email, name in DEMO_ACCOUNTS:
        e.service.ensure_account(email, name)
    cid, secret = os.environ.get("EMULATOR_CLIENT_ID"), os.environ.get("EMULATOR_CLIENT_SECRET")
    if cid and secret:
        uris = [u.strip() for u in os.environ.get("EMULATOR_REDIRECT_URIS", "").split(",") if u.strip()]
        register_client(e.store, cid, secret, uris, os.environ.get("EMULATOR_CLIENT_NAME", "My Portal App"))
        seed_demo_grant(e, cid, os.environ.get("EMULATOR_DEMO_REFRESH_TOKEN"))
    return [a[0] for a in DEMO_ACCOUNTS]


DEMO_GRANT_SCOPES = ["https://www.googleapis.com/auth/calendar.events",
                     "https://www.googleapis.com/auth/calendar.calendarlist.readonly",
                     "https://www.googleapis.com/auth/calendar.app.created"]


def seed_demo_grant(e: Emulator, client_id: str, refresh_token: str | None) -> None:
    """A grant Sam gave the portal long ago, under a refresh token the portal's demo seed also knows,
    so the demo's legacy 1-way connection really works."""
    if not refresh_token or e.store.q1("SELECT 1 FROM tokens WHERE token=?", (refresh_token,)):
        return
    issued = issue_tokens(e.store, "sam@example.com", client_id, DEMO_GRANT_SCOPES, refresh=True, lifetime=3599,
                          issuer=e.base_url)
    with e.store.tx() as c:
        c.execute("UPDATE tokens SET token=? WHERE token=?", (refresh_token, issued["refresh_token"]))


@bp.get("/health")
def health() -> Response:
    return jsonify({"ok": True, "base_url": emu().base_url, "admin": emu().admin_enabled})


@bp.post("/reset")
def reset() -> Response:
    e = emu()
    e.store.reset()
    e.controls.reset()  # also Google's limits: start values back, quota windows and read-only periods gone
    if _body().get("seed_demo"):
        seed_demo(e)
    return jsonify({"ok": True})


@bp.post("/seed-demo")
def seed_demo_route() -> Response:
    return jsonify({"accounts": seed_demo(emu())})


@bp.post("/accounts")
def accounts() -> Response:
    b = _body()
    if not b.get("email") or "@" not in b["email"]:
        return _bad("email required")
    cals = b.get("calendars")
    for c in cals or []:
        if c.get("accessRole", "owner") not in ("freeBusyReader", "reader", "writer", "owner"):
            return _bad("bad accessRole")
    try:
        email = emu().service.ensure_account(b["email"], b.get("name"), calendars=cals,
                                             default_calendars=b.get("default_calendars", True),
                                             time_zone=b.get("timeZone") or "UTC")
    except Exception as ex:  # noqa: BLE001 - report bad seeds as 400
        return _bad(str(ex))
    rows = emu().store.q("SELECT calendar_id, access_role, is_primary FROM calendar_list WHERE email=?", (email,))
    return jsonify({"email": email, "calendars": [{"id": r["calendar_id"], "accessRole": r["access_role"],
                                                   "primary": bool(r["is_primary"])} for r in rows]})


@bp.post("/clients")
def clients() -> Response:
    b = _body()
    if not b.get("client_id") or not b.get("client_secret"):
        return _bad("client_id and client_secret required")
    register_client(emu().store, b["client_id"], b["client_secret"], b.get("redirect_uris") or [],
                    b.get("name") or "My Portal App")
    return jsonify({"ok": True})


@bp.get("/counters")
def counters() -> Response:
    return jsonify(emu().controls.snapshot())


@bp.post("/counters/reset")
def counters_reset() -> Response:
    emu().controls.reset_counters()
    return jsonify({"ok": True})


@bp.post("/latency")
def latency() -> Response:
    b = _body()
    e = emu()
    e.controls.latency_ms = max(0, int(b.get("ms", 0)))
    e.controls.batch_inner_latency_ms = max(0, int(b.get("batch_inner_ms", 0)))
    return jsonify({"ms": e.controls.latency_ms, "batch_inner_ms": e.controls.batch_inner_latency_ms})


@bp.post("/faults")
def faults() -> Response:
    try:
        r = emu().controls.add_fault(_body())
    except (ValueError, TypeError) as ex:
        return _bad(str(ex))
    return jsonify(r)


@bp.get("/faults")
def list_faults() -> Response:
    return jsonify(emu().controls.faults)


@bp.delete("/faults")
def clear_faults() -> Response:
    emu().controls.clear_faults()
    return jsonify({"ok": True})


@bp.post("/tokens/revoke")
def tokens_revoke() -> Response:
    email = _body().get("email") or ""
    return jsonify({"revoked_grants": revoke_user(emu().store, email)})


@bp.post("/tokens/issue")
def tokens_issue() -> Response:
    b = _body()
    e = emu()
    email = (b.get("email") or "").lower()
    if not e.store.q1("SELECT 1 FROM accounts WHERE email=?", (email,)):
        return _bad("unknown account")
    if not e.store.q1("SELECT 1 FROM clients WHERE client_id=?", (b.get("client_id") or "",)):
        return _bad("unknown client")
    scopes = b.get("scopes") or []
    scopes = scopes.split() if isinstance(scopes, str) else scopes
    out = issue_tokens(e.store, email, b["client_id"], [normalize_scope(s) for s in scopes],
                       refresh=bool(b.get("refresh", True)),
                       lifetime=int(b.get("lifetime") or e.controls.token_lifetime), issuer=e.base_url)
    return jsonify(out)


@bp.post("/sync-tokens/expire")
def expire_sync_tokens() -> Response:
    store = emu().store
    store.kv_set("sync_epoch", max(int(time.time() * 1000), int(store.kv_get("sync_epoch", 0)) + 1))
    return jsonify({"ok": True})


@bp.get("/limits")
def limits() -> Response:
    """Google's limits as now set, and which users' calendars are read-only for how many more seconds."""
    return jsonify(emu().controls.limits.snapshot())


def _change_limits(allowed: tuple[str, ...]) -> Response:
    changes = {k: v for k, v in _body().items() if v is not None}
    unknown = set(changes) - set(allowed)
    if unknown:
        return _bad("unknown settings: " + ", ".join(sorted(unknown)))
    try:
        emu().controls.limits.change(changes)
    except (TypeError, ValueError) as ex:
        return _bad(str(ex))
    return jsonify(emu().controls.limits.snapshot())


@bp.post("/quota")
def quota() -> Response:
    """Per-minute request quotas (0: off) and the share of refusals answered 429; windows start afresh."""
    return _change_limits(("per_user_per_minute", "per_project_per_minute", "quota_window_seconds", "share_429"))


@bp.post("/use-limits")
def use_limits() -> Response:
    """Event and calendar creations per period before a calendar turns read-only, and for how long."""
    return _change_limits(("event_creations", "calendar_creations", "use_limit_period_seconds", "read_only_seconds"))


@bp.post("/webhooks")
def webhooks() -> Response:
    """Whether events.watch accepts http://127.0.0.1 / localhost addresses (the development flag)."""
    return _change_limits(("allow_http_webhooks",))


@bp.post("/token-lifetime")
def token_lifetime() -> Response:
    s = int(_body().get("seconds") or 3599)
    emu().controls.token_lifetime = max(1, s)
    return jsonify({"seconds": emu().controls.token_lifetime})


@bp.get("/events")
def events() -> Response:
    cal = request.args.get("calendarId", "")
    return jsonify({"items": emu().service.dump(cal)})


@bp.get("/notifications")
def notifications() -> Response:
    return jsonify({"items": list(emu().notifier.delivered)})
