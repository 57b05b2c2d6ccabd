from flask import Blueprint

bp = Blueprint("broker", __name__, template_folder="templates", url_prefix="/broker")

from . import routes  # noqa: E402,F401
