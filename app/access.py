"""Server-side access rules shared by every blueprint."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from .menu import can_see


def require_menu_entry(endpoint: str, message: str):
    """Refuse (403) a view whose menu entry the current user's role does not have.

    Hiding a menu entry and refusing its routes are one rule, so they can never disagree.
    """

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not can_see(current_user, endpoint):
                abort(403, message)
            return view(*args, **kwargs)

        return wrapped

    return decorator


INTEGRATIONS_HIDDEN = ("Your company has not made Integrations available to your role. "
                       "Ask a company admin if you need it.")
integrations_required = require_menu_entry("integrations.index", INTEGRATIONS_HIDDEN)
admin_required = require_menu_entry("settings.index", "Only company admins can open Company Settings.")
