from flask import Blueprint

bp = Blueprint("integrations", __name__, template_folder="templates", url_prefix="/integrations")

from . import busy_times, routes  # noqa: E402,F401
