from flask import Blueprint, Flask, abort, request

bp = Blueprint("broker", __name__, template_folder="templates", url_prefix="/broker")


def confine_to_broker_host(app: Flask) -> None:
    """On the broker's own host, only the broker answers: no tenant's login page or brand shows there.

    Applies when the broker host (the redirect URI's) is not also the shared portal host.
    """
    from ..tenancy import host_of

    broker_host = host_of(app.config["GOOGLE_REDIRECT_URI"])
    if broker_host == host_of(app.config["PORTAL_BASE_URL"]):
        return

    @app.before_request
    def broker_routes_only():
        if request.host.lower() == broker_host and request.blueprint != "broker" and request.endpoint != "static":
            abort(404)


from . import routes  # noqa: E402,F401
