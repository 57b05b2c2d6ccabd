"""Admin JSON API under /_emulator/ for tests and benchmarks (404 unless started with --admin).

`health` is always available so launchers can wait for the server.
"""
from __future__ import annotations

import os

from flask import Blueprint, abort, current_app, jsonify, request

from .discovery import normalize_scope
from .oauth import issue_tokens, revoke_user

bp = Blueprint("admin", __name__, url_prefix="/_emulator")

DEMO_ACCOUNTS = [
    ("alex@example.com", "Alex Client"),
    ("sam@example.com", "Sam Staff"),
    ("jordan@example.com", "Jordan Client"),
    ("taylor@example.com", "Taylor Staff"),
    ("casey@example.com", "Casey Client"),
]


def emu():
    return current_app.extensions["google_emulator"]


@bp.before_request
def _gate():
    if request.endpoint != "admin.health" and not emu().admin_enabled:
        abort(404)


def _body() -> dict:
    return request.get_json(silent=True) or {}


def _bad(msg):
    r = jsonify({"error": msg})
    r.status_code = 400
    return r


def register_client(store, client_id, client_secret, redirect_uris, name="My Portal App"):
    import json
    with store.tx() as c:
        c.execute("INSERT OR REPLACE INTO clients(client_id, client_secret, name, redirect_uris) VALUES (?,?,?,?)",
                  (client_id, client_secret, name or "My Portal App", json.dumps(list(redirect_uris))))


def seed_demo(e):
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


def seed_demo_grant(e, client_id: str, refresh_token: str | None) -> None:
    """A grant Sam gave the portal long ago, under a refresh token the portal's demo seed also knows,
    so the demo's legacy 1-way connection really works."""
    if not refresh_token or e.store.q1("SELECT 1 FROM tokens WHERE token=?", (refresh_token,)):
        return
    issued = issue_tokens(e.store, "sam@example.com", client_id, DEMO_GRANT_SCOPES, refresh=True, lifetime=3599)
    with e.store.tx() as c:
        c.execute("UPDATE tokens SET token=? WHERE token=?", (refresh_token, issued["refresh_token"]))


@bp.get("/health")
def health():
    return jsonify({"ok": True, "base_url": emu().base_url, "admin": emu().admin_enabled})


@bp.post("/reset")
def reset():
    e = emu()
    e.store.reset()
    e.controls.reset()
    if _body().get("seed_demo"):
        seed_demo(e)
    return jsonify({"ok": True})


@bp.post("/seed-demo")
def seed_demo_route():
    return jsonify({"accounts": seed_demo(emu())})


@bp.post("/accounts")
def accounts():
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
def clients():
    b = _body()
    if not b.get("client_id") or not b.get("client_secret"):
        return _bad("client_id and client_secret required")
    register_client(emu().store, b["client_id"], b["client_secret"], b.get("redirect_uris") or [],
                    b.get("name") or "My Portal App")
    return jsonify({"ok": True})


@bp.get("/counters")
def counters():
    return jsonify(emu().controls.snapshot())


@bp.post("/counters/reset")
def counters_reset():
    emu().controls.reset_counters()
    return jsonify({"ok": True})


@bp.post("/latency")
def latency():
    b = _body()
    e = emu()
    e.controls.latency_ms = max(0, int(b.get("ms", 0)))
    e.controls.batch_inner_latency_ms = max(0, int(b.get("batch_inner_ms", 0)))
    return jsonify({"ms": e.controls.latency_ms, "batch_inner_ms": e.controls.batch_inner_latency_ms})


@bp.post("/faults")
def faults():
    try:
        r = emu().controls.add_fault(_body())
    except (ValueError, TypeError) as ex:
        return _bad(str(ex))
    return jsonify(r)


@bp.get("/faults")
def list_faults():
    return jsonify(emu().controls.faults)


@bp.delete("/faults")
def clear_faults():
    emu().controls.clear_faults()
    return jsonify({"ok": True})


@bp.post("/tokens/revoke")
def tokens_revoke():
    email = _body().get("email") or ""
    return jsonify({"revoked_grants": revoke_user(emu().store, email)})


@bp.post("/tokens/issue")
def tokens_issue():
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
                       refresh=bool(b.get("refresh", True)), lifetime=int(b.get("lifetime") or
                                                                           e.controls.token_lifetime))
    return jsonify(out)


@bp.post("/sync-tokens/expire")
def expire_sync_tokens():
    import time
    store = emu().store
    store.kv_set("sync_epoch", max(int(time.time() * 1000), int(store.kv_get("sync_epoch", 0)) + 1))
    return jsonify({"ok": True})


@bp.post("/quota")
def quota():
    emu().controls.quota_per_user_per_minute = max(0, int(_body().get("per_user_per_minute") or 0))
    emu().controls.quota_window_seconds = max(1.0, float(_body().get("window_seconds") or 60))
    emu().controls.windows = {}
    return jsonify({"per_user_per_minute": emu().controls.quota_per_user_per_minute,
                    "window_seconds": emu().controls.quota_window_seconds})


@bp.post("/token-lifetime")
def token_lifetime():
    s = int(_body().get("seconds") or 3599)
    emu().controls.token_lifetime = max(1, s)
    return jsonify({"seconds": emu().controls.token_lifetime})


@bp.get("/events")
def events():
    cal = request.args.get("calendarId", "")
    return jsonify({"items": emu().service.dump(cal)})


@bp.get("/notifications")
def notifications():
    return jsonify({"items": list(emu().notifier.delivered)})
