from flask import Blueprint

bp = Blueprint("settings", __name__, template_folder="templates", url_prefix="/settings")

from . import operations, routes  # noqa: E402,F401
