"""`python -m google_emulator --host 127.0.0.1 --port 8765 --db emu.sqlite3 [--admin] [--seed-demo]
[--allow-http-webhooks] [--quota-per-user N] [--quota-per-project N] [--quota-429-share F]
[--event-creation-limit N] [--calendar-creation-limit N] [--use-limit-period S] [--use-limit-read-only S]`.

Without the limit flags the emulator is as strict as Google (see `limits.LimitSettings`).
"""
from __future__ import annotations

import argparse
import os

from werkzeug.serving import run_simple

from .app import create_app
from .limits import LimitSettings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    google = LimitSettings()
    p = argparse.ArgumentParser(prog="google_emulator", description="Local Google OAuth + Calendar v3 emulator")
    p.add_argument("--host", default=os.environ.get("EMULATOR_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("EMULATOR_PORT", "8765")))
    p.add_argument("--db", default=os.environ.get("EMULATOR_DB", "emulator.sqlite3"))
    p.add_argument("--base-url", default=os.environ.get("EMULATOR_BASE_URL"),
                   help="public base URL (default http://HOST:PORT)")
    p.add_argument("--admin", action="store_true", default=os.environ.get("EMULATOR_ADMIN") == "1")
    p.add_argument("--seed-demo", action="store_true", default=os.environ.get("EMULATOR_SEED_DEMO") == "1")
    dev = p.add_argument_group("development relaxations and scaled limits (defaults are Google's)")
    dev.add_argument("--allow-http-webhooks", action="store_true",
                     default=os.environ.get("EMULATOR_ALLOW_HTTP_WEBHOOKS") == "1",
                     help="accept events.watch addresses on http://127.0.0.1 / localhost (Google wants HTTPS)")
    dev.add_argument("--quota-per-user", type=int, default=google.per_user_per_minute,
                     help="requests per minute per user (0: off)")
    dev.add_argument("--quota-per-project", type=int, default=google.per_project_per_minute,
                     help="requests per minute per project (0: off)")
    dev.add_argument("--quota-429-share", type=float, default=google.share_429,
                     help="share of rate-limit refusals answered 429 instead of 403")
    dev.add_argument("--event-creation-limit", type=int, default=google.event_creations,
                     help="event creations per user per period before the calendar turns read-only (0: off)")
    dev.add_argument("--calendar-creation-limit", type=int, default=google.calendar_creations,
                     help="calendar creations per user per period before it turns read-only (0: off)")
    dev.add_argument("--use-limit-period", type=float, default=google.use_limit_period_seconds,
                     help="seconds over which creations are counted")
    dev.add_argument("--use-limit-read-only", type=float, default=google.read_only_seconds,
                     help="seconds a calendar stays read-only after a use limit")
    return p.parse_args(argv)


def limits_from(a: argparse.Namespace) -> LimitSettings:
    """The start values of Google's limits; raises ValueError on a negative number or a share above 1."""
    return LimitSettings().updated({
        "per_user_per_minute": a.quota_per_user, "per_project_per_minute": a.quota_per_project,
        "share_429": a.quota_429_share, "event_creations": a.event_creation_limit,
        "calendar_creations": a.calendar_creation_limit, "use_limit_period_seconds": a.use_limit_period,
        "read_only_seconds": a.use_limit_read_only, "allow_http_webhooks": a.allow_http_webhooks})


def main(argv: list[str] | None = None) -> None:
    a = parse_args(argv)
    base = a.base_url or f"http://{a.host}:{a.port}"
    try:
        limits = limits_from(a)
    except ValueError as ex:
        raise SystemExit(f"google_emulator: {ex}")
    app = create_app(a.db, admin_enabled=a.admin, base_url=base, seed_demo=a.seed_demo, limits=limits)
    print(f"Google emulator on {base} (admin={'on' if a.admin else 'off'}, db={a.db}, "
          f"http webhooks={'allowed' if limits.allow_http_webhooks else 'refused'}, "
          f"quota {limits.per_user_per_minute}/min per user, {limits.per_project_per_minute}/min per project)",
          flush=True)
    run_simple(a.host, a.port, app, threaded=True, use_reloader=False, use_debugger=False)


if __name__ == "__main__":
    main()
