from flask import Blueprint, Flask, abort, current_app, request

bp = Blueprint("broker", __name__, template_folder="templates", url_prefix="/broker")
STATIC_ENDPOINTS = ("static", "bootstrap.static")  # the broker's pages are styled from its own host


def on_broker_host() -> bool:
    """Whether this request came to the broker's own host (the redirect URI's), where pages are neutral."""
    from ..tenancy import host_of

    broker_host = host_of(current_app.config["GOOGLE_REDIRECT_URI"])
    return request.host.lower() == broker_host and broker_host != host_of(current_app.config["PORTAL_BASE_URL"])


def confine_to_broker_host(app: Flask) -> None:
    """On the broker's own host, only the broker (and its style sheets) answers: no tenant's sign-in page or
    brand shows there. Applies when the broker host is not also the shared portal host."""

    @app.before_request
    def broker_routes_only():
        if on_broker_host() and request.blueprint != "broker" and request.endpoint not in STATIC_ENDPOINTS:
            abort(404)


from . import routes  # noqa: E402,F401
