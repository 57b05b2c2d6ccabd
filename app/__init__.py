"""Portal Calendar Sync: the application factory."""
from __future__ import annotations

import os

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.routing import IntegerConverter

from config import Config, ProductionConfig, config_from_env

from .extensions import bootstrap, csrf, db, login_manager, mail, migrate


def create_app(config: type[Config] | None = None, *, broker_only: bool = False, **overrides) -> Flask:
    """The portal app; with `broker_only`, the integration broker as its own process (`broker_wsgi.py`)."""
    app = Flask(__name__)
    config = config or config_from_env()
    if config is ProductionConfig:
        config.check()
    app.config.from_object(config)
    app.config.update(overrides)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        os.makedirs(os.path.dirname(app.config["SQLALCHEMY_DATABASE_URI"][len("sqlite:///"):]), exist_ok=True)

    app.url_map.converters["int"] = DatabaseId  # before any route is added
    register_extensions(app)
    register_sync_hooks()
    register_blueprints(app, broker_only)
    register_errorhandlers(app)
    register_commands(app)
    register_template_helpers(app)
    return app


class DatabaseId(IntegerConverter):
    """`<int:…>` in a route matches only ids the database can hold (its 32-bit integer keys): a larger number
    names no row, so it is a 404 like any unknown id rather than a query the database refuses (a 500)."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True)
    csrf.init_app(app)
    bootstrap.init_app(app)
    mail.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"

    from .google.oauth import init_app as init_oauth
    from .queues import init_app as init_queues
    from .security import init_app as init_security

    init_security(app)
    init_queues(app)
    init_oauth(app)


def register_sync_hooks() -> None:
    """Every committed item change queues a push for each connected participant (the outbox's session hooks),
    and after the commit the job boundary schedules those pushes. Installed here, explicitly, for every
    process that builds the app (web, broker, worker, tests, benches); installing twice is harmless."""
    from jobs.sync import install_push_after_commit

    from .sync.outbox import install as install_outbox

    install_outbox()
    install_push_after_commit()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL lets the web app and a worker write at the same time; foreign keys enforce cascades."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


def register_blueprints(app: Flask, broker_only: bool = False) -> None:
    from . import auth, broker, calendar, integrations, main, metrics, notices, portal, settings

    if app.config["BROKER_MODE"] not in ("embedded", "separate"):
        raise RuntimeError(f"BROKER_MODE must be 'embedded' or 'separate', not {app.config['BROKER_MODE']!r}")
    modules = [auth, main, portal, calendar, integrations, broker, settings, notices, metrics]
    if broker_only:
        modules = [broker]
    elif app.config["BROKER_MODE"] != "embedded":
        modules.remove(broker)  # it runs as its own process
    for module in modules:
        app.register_blueprint(module.bp)
    if broker in modules:
        csrf.exempt(broker.bp)  # Google posts here: verified by state / channel token instead
        broker.confine_to_broker_host(app)


MAINTENANCE_MESSAGE = "The portal is being updated. It will be back in a few minutes; nothing you saved is lost."


def register_errorhandlers(app: Flask) -> None:
    from flask import jsonify, redirect, render_template, request
    from flask_wtf.csrf import CSRFError
    from werkzeug.exceptions import HTTPException, ServiceUnavailable

    from .broker import on_broker_host
    from .broker.pages import broker_page
    from .security import THROTTLED_MESSAGE

    def wants_json() -> bool:
        """The progress poller and other scripts ask for JSON; people's browsers ask for HTML."""
        accept = request.accept_mimetypes
        return (accept.best == "application/json" or accept["application/json"] > accept["text/html"]
                or request.headers.get("X-Requested-With") == "XMLHttpRequest" or request.path.startswith("/api/"))

    def render_error(error, message: str | None = None):
        code = getattr(error, "code", 500) or 500
        text = message or getattr(error, "description", "Something went wrong.")
        if wants_json():
            return jsonify(error=text), code
        if on_broker_host():  # the broker's own, neutral page (with a way back if the visit names a company)
            return broker_page(code, text)
        return render_template("error.html", code=code, message=text), code

    def not_found(error):
        """`/tasks/` finds `/tasks`: a trailing slash the route does not have redirects instead of a 404."""
        path = request.path
        if len(path) > 1 and path.endswith("/") and not path.startswith("//"):
            adapter = app.create_url_adapter(request)
            try:
                adapter.match(path.rstrip("/"), method=request.method)
            except HTTPException:
                pass
            else:
                query = request.query_string.decode()
                return redirect(request.script_root + path.rstrip("/") + (f"?{query}" if query else ""), 308)
        return render_error(error)

    def server_error(error):
        """Plain words for people, JSON for the poller; the traceback is in the log (Flask logged it)."""
        db.session.rollback()  # the page below reads the user's company: never through a failed transaction
        return render_error(error, "Something went wrong on our side. Please try again in a moment.")

    @app.before_request
    def maintenance():
        """MAINTENANCE_MODE: the company's own page (brand from the host) says so; style sheets still load."""
        if app.config["MAINTENANCE_MODE"] and request.endpoint not in ("static", "bootstrap.static",
                                                                        "main.brand_logo"):
            page, code = render_error(ServiceUnavailable(), MAINTENANCE_MESSAGE)
            response = app.make_response((page, code))
            response.headers["Retry-After"] = "300"
            return response

    expired = "Your form expired or was not sent from this site. Please reload the page and try again."
    app.register_error_handler(CSRFError, lambda e: render_error(e, expired))
    app.register_error_handler(429, lambda e: render_error(e, THROTTLED_MESSAGE))
    too_large = (f"The file is too large: the limit is {app.config['MAX_CONTENT_LENGTH'] // (1024 * 1024)} MB. "
                 "Nothing was changed.")
    app.register_error_handler(413, lambda e: render_error(e, too_large))
    app.register_error_handler(500, server_error)
    for code in (400, 403, 405, 409, 503):
        app.register_error_handler(code, render_error)
    app.register_error_handler(404, not_found)


def register_commands(app: Flask) -> None:
    from .commands import seed_demo, set_google_client

    app.cli.add_command(seed_demo)
    app.cli.add_command(set_google_client)


def register_template_helpers(app: Flask) -> None:
    from .branding import current_brand
    from .integrations.words import count_of, failure_words
    from .menu import menu_for
    from .notices import notice_for_user
    from .timefmt import register as register_time_filters

    app.context_processor(lambda: {"menu_for": menu_for, "count_of": count_of, "brand": current_brand(),
                                   "notice": notice_for_user()})
    app.add_template_filter(failure_words)  # "Not in Google: …" on item pages and the cards
    register_time_filters(app)
