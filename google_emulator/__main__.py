"""`python -m google_emulator --host 127.0.0.1 --port 8765 --db emu.sqlite3 [--admin] [--seed-demo]`."""
from __future__ import annotations

import argparse
import os

from werkzeug.serving import run_simple

from .app import create_app


def main(argv=None):
    p = argparse.ArgumentParser(prog="google_emulator", description="Local Google OAuth + Calendar v3 emulator")
    p.add_argument("--host", default=os.environ.get("EMULATOR_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("EMULATOR_PORT", "8765")))
    p.add_argument("--db", default=os.environ.get("EMULATOR_DB", "emulator.sqlite3"))
    p.add_argument("--base-url", default=os.environ.get("EMULATOR_BASE_URL"),
                   help="public base URL (default http://HOST:PORT)")
    p.add_argument("--admin", action="store_true", default=os.environ.get("EMULATOR_ADMIN") == "1")
    p.add_argument("--seed-demo", action="store_true", default=os.environ.get("EMULATOR_SEED_DEMO") == "1")
    a = p.parse_args(argv)
    base = a.base_url or f"http://{a.host}:{a.port}"
    app = create_app(a.db, admin_enabled=a.admin, base_url=base, seed_demo=a.seed_demo)
    print(f"Google emulator on {base} (admin={'on' if a.admin else 'off'}, db={a.db})", flush=True)
    run_simple(a.host, a.port, app, threaded=True, use_reloader=False, use_debugger=False)


if __name__ == "__main__":
    main()
