"""Flask application factory wiring storage, services and blueprints together."""
from __future__ import annotations

import gzip
import logging
import os
import tempfile

from flask import Flask, Request, Response, redirect, request

from .context import Emulator
from .controls import Controls
from .events import CalendarService
from .limits import LimitSettings
from .notify import Notifier
from .storage import Store

COMPRESSED_TYPES = ("application/json", "multipart/mixed")


def create_app(db_path: str | None = None, admin_enabled: bool = False, base_url: str = "http://127.0.0.1:8765",
               seed_demo: bool = False, limits: LimitSettings | None = None) -> Flask:
    """Build the emulator app. `base_url` is what the emulator tells clients it lives at (issuer, links);
    `limits` are the start values of Google's limits (Google's own numbers by default)."""
    from . import admin, batch, calendar_api, oauth, ui

    if db_path is None:
        db_path = os.path.join(tempfile.mkdtemp(prefix="gemu-"), "emu.sqlite3")
    app = Flask(__name__)
    app.config["SECRET_KEY"] = os.environ.get("EMULATOR_SECRET_KEY") or os.urandom(16).hex()
    store = Store(db_path)
    if store.kv_get("sync_epoch") is None:
        store.kv_set("sync_epoch", 1)
    controls = Controls(limits)
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
    def index() -> Response:
        return redirect("/calendar")

    @app.after_request
    def compress(response: Response) -> Response:
        return gzip_if_accepted(request, response)

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return app


def gzip_if_accepted(req: Request, response: Response) -> Response:
    """Google compresses JSON (and batch) answers when the request says `Accept-Encoding: gzip`, as
    httplib2 and requests both do; clients that cannot decode it must not ask for it."""
    if (response.mimetype not in COMPRESSED_TYPES or "gzip" not in req.headers.get("Accept-Encoding", "")
            or response.direct_passthrough or "Content-Encoding" in response.headers):
        return response
    body = response.get_data()
    if not body:
        return response
    response.set_data(gzip.compress(body, compresslevel=5))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    return response
