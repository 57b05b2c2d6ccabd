"""Google sign-in (authlib) and token revocation."""
from __future__ import annotations

import requests
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app

EVENTS_SCOPE = "https://www.googleapis.com/auth/calendar.events"
CALENDARLIST_SCOPE = "https://www.googleapis.com/auth/calendar.calendarlist.readonly"
APP_CREATED_SCOPE = "https://www.googleapis.com/auth/calendar.app.created"
REQUIRED_SCOPES = (EVENTS_SCOPE, CALENDARLIST_SCOPE, APP_CREATED_SCOPE)
# Asked for alone, later, by incremental authorization: "Check my Google calendars for conflicts" (app.busy).
FREEBUSY_SCOPE = "https://www.googleapis.com/auth/calendar.freebusy"
SCOPE_LABELS = {
    EVENTS_SCOPE: "View and edit events on all your calendars",
    CALENDARLIST_SCOPE: "See the list of Google calendars you're subscribed to",
    APP_CREATED_SCOPE: "Make secondary Google calendars, and see, create, change, and delete events on them",
}
SIGN_IN_SCOPES = "openid email profile"

oauth = OAuth()


def init_app(app: Flask) -> None:
    oauth.init_app(app)
    oauth.register(
        "google",
        client_id=app.config["GOOGLE_CLIENT_ID"],
        client_secret=app.config["GOOGLE_CLIENT_SECRET"],
        server_metadata_url=app.config["GOOGLE_OPENID_CONFIGURATION_URL"],
        client_kwargs={"scope": " ".join([SIGN_IN_SCOPES, *REQUIRED_SCOPES]), "code_challenge_method": "S256"},
    )


def missing_scopes(granted: set[str]) -> list[str]:
    """Scopes compare as sets: Google may return them in any order, with extras."""
    return [scope for scope in REQUIRED_SCOPES if scope not in granted]


def server_metadata() -> dict:
    """Google's OpenID configuration, loaded once by authlib from `GOOGLE_OPENID_CONFIGURATION_URL`."""
    return oauth.google.load_server_metadata()


def revoke_token(token: str | None) -> bool:
    """Revoke at Google; an already revoked token counts as done. Returns whether Google said yes."""
    if not token:
        return False
    try:
        response = requests.post(server_metadata()["revocation_endpoint"], data={"token": token}, timeout=10)
    except requests.RequestException:
        current_app.logger.warning("Token revocation failed: Google unreachable")
        return False
    return response.status_code == 200
