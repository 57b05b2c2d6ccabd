"""The integration broker: ONE registered redirect URI for every tenant, and Google's webhook.

It answers on its own host (the redirect URI's), in the portal app or as its own process
(`broker_wsgi.py`), and reads no tenant's session cookie: Google's answer carries the sealed state that
names company, user, kind and nonce (see `app.integrations.signin`). The broker exchanges the code with
the PKCE verifier the state holds, keeps the grant for the portal to claim, and sends the user back to
their own company's portal with a one-time handoff ticket, and nowhere else.
"""
from __future__ import annotations

import hmac

import requests
import sqlalchemy as sa
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.flask_client import FlaskOAuth2App
from flask import abort, current_app, redirect, request
from joserfc.errors import JoseError
from redis.exceptions import RedisError

from jobs.sync import schedule_pull

from ..access import INTEGRATIONS_HIDDEN
from ..busy import forget
from ..extensions import db
from ..google.company_client import sign_in_client
from ..integrations.signin import (
    UNAVAILABLE,
    SignIn,
    SignInRefused,
    handoff_url,
    open_state,
    park_outcome,
    use_once,
)
from ..menu import can_see
from ..models import CalendarConnection, User
from ..sync.polling import notified
from . import bp


@bp.get("/google/callback")
def google_callback():
    """Google's answer: verify the state, exchange the code, park the outcome, return the user home."""
    try:
        sign_in = open_state(request.args.get("state", ""))
        user = db.session.get(User, sign_in.user_id)
        if user is None or user.company_id != sign_in.company_id:
            raise SignInRefused("This sign-in names an account that no longer exists.")
        if not can_see(user, "integrations.index"):  # the role rule, for the user the state names
            abort(403, INTEGRATIONS_HIDDEN)
        use_once(sign_in)
        park_outcome(sign_in, google_outcome(sign_in, sign_in_client(user.company)))
    except SignInRefused as refusal:
        abort(400, str(refusal))
    except RedisError:
        abort(503, UNAVAILABLE)
    return redirect(handoff_url(user.company, sign_in))


def google_outcome(sign_in: SignIn, google: FlaskOAuth2App) -> dict:
    """What the portal will show and store: cancelled, failed (in plain words) or granted (tokens)."""
    error = request.args.get("error")
    if error:
        return ({"result": "cancelled"} if error == "access_denied"
                else {"result": "failed",
                      "message": "Google sign-in did not complete; nothing was connected. Please try again."})
    try:
        token = google.fetch_access_token(redirect_uri=current_app.config["GOOGLE_REDIRECT_URI"],
                                          code=request.args.get("code", ""), code_verifier=sign_in.code_verifier)
        userinfo = google.parse_id_token(token, nonce=sign_in.nonce) if "id_token" in token else {}
    except OAuthError as exc:  # e.g. invalid_grant: the code was used already or has expired
        current_app.logger.info("Google sign-in of user %s failed: %s", sign_in.user_id, exc.error)
        return {"result": "failed", "message": "Google sign-in could not be completed, for example because it "
                "took too long. Please start again from the Integrations page."}
    except (JoseError, requests.RequestException):
        current_app.logger.warning("Google sign-in of user %s failed at the token step", sign_in.user_id,
                                   exc_info=True)
        return {"result": "failed", "message": "Google sign-in could not be completed. Please try again."}
    return {"result": "granted", "token": dict(token), "userinfo": dict(userinfo)}


@bp.post("/google/notifications")
def webhook():
    """Google push notification: verified by channel id and our secret channel token, then a pull."""
    channel_id = request.headers.get("X-Goog-Channel-ID", "")
    state = request.headers.get("X-Goog-Resource-State", "")
    if not channel_id or not state:
        return "missing X-Goog headers", 400
    connection = db.session.scalar(sa.select(CalendarConnection).where(CalendarConnection.channel_id == channel_id))
    token = request.headers.get("X-Goog-Channel-Token", "")
    if connection is None or not hmac.compare_digest(token, connection.channel_token or ""):
        return "unknown channel", 404
    if notified(connection):  # the channel delivers: its connection is polled rarely
        db.session.commit()
    if connection.busy_calendars:
        forget(connection.id)  # something changed in Google: busy times are asked afresh
    if state != "sync" and connection.can_sync and connection.pulls:
        try:
            schedule_pull(connection.id)
        except RedisError:
            return "busy, retry later", 503  # Google retries 5xx with backoff; the cron sweep also pulls
    return "", 204
