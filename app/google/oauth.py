"""Google sign-in (authlib) and token revocation."""
from __future__ import annotations

import requests
from authlib.integrations.flask_client import FlaskOAuth2App, OAuth
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


def init_app(app: Flask) -> None:
    """One OAuth registry per app: authlib keeps the client it creates (and Google's metadata it loads), so a
    registry shared by every app of a process would serve a second app the first one's endpoints."""
    oauth = OAuth(app)
    app.extensions["google_oauth"] = oauth
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


def google_sign_in() -> FlaskOAuth2App:
    """authlib's client for "My Portal App", the app's shared OAuth client."""
    return current_app.extensions["google_oauth"].google


def server_metadata() -> dict:
    """Google's OpenID configuration, loaded once by authlib from `GOOGLE_OPENID_CONFIGURATION_URL`."""
    return google_sign_in().load_server_metadata()


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
