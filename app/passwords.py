"""Password reset links: signed, an hour long, for one person, and spent once their password changes."""
from __future__ import annotations

import hashlib

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from .extensions import db
from .models import User
from .tenancy import portal_base

RESET_MAX_AGE = 3600  # seconds a link works


def _links() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def _fingerprint(user: User) -> str:
    """Changes with the password: a link works until the password it was made for is replaced."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def reset_link(user: User) -> str:
    """The link, on the person's own company's portal address."""
    token = _links().dumps({"u": user.id, "p": _fingerprint(user)})
    return f"{portal_base(user.company)}password/reset/{token}"


def user_for_reset(token: str) -> User | None:
    """The person a reset link is for, while it is valid (signed, within the hour, not spent)."""
    try:
        data = _links().loads(token, max_age=RESET_MAX_AGE)
        user = db.session.get(User, int(data["u"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    return user if user is not None and data.get("p") == _fingerprint(user) else None
