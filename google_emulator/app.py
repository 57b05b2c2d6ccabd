"""Flask application factory wiring storage, services and blueprints together."""
from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass

from flask import Flask, redirect

from .controls import Controls
from .events import CalendarService
from .notify import Notifier
from .storage import Store


@dataclass
class Emulator:
    store: Store
    service: CalendarService
    controls: Controls
    notifier: Notifier
    base_url: str
    admin_enabled: bool


def create_app(db_path: str | None = None, admin_enabled: bool = False, base_url: str = "http://127.0.0.1:8765",
               seed_demo: bool = False) -> Flask:
    """Build the emulator app. `base_url` is what the emulator tells clients it lives at (issuer, links)."""
    from . import admin, batch, calendar_api, oauth, ui

    if db_path is None:
        db_path = os.path.join(tempfile.mkdtemp(prefix="gemu-"), "emu.sqlite3")
    app = Flask(__name__)
    app.config["SECRET_KEY"] = os.environ.get("EMULATOR_SECRET_KEY") or os.urandom(16).hex()
    store = Store(db_path)
    if store.kv_get("sync_epoch") is None:
        store.kv_set("sync_epoch", 1)
    controls = Controls()
    notifier = Notifier(store, controls)
    service = CalendarService(store, base_url, on_change=notifier.calendar_changed)
    emu = Emulator(store, service, controls, notifier, base_url.rstrip("/"), admin_enabled)
    app.extensions["google_emulator"] = emu
    oauth.signing_key(store)  # generate the RS256 key at first start
    for bp in (oauth.bp, calendar_api.bp, batch.bp, admin.bp, ui.bp):
        app.register_blueprint(bp)
    if seed_demo:
        admin.seed_demo(emu)

    @app.get("/")
    def index():
        return redirect("/calendar")

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return app
