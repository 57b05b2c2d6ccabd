"""The integration broker: ONE registered redirect URI for every tenant, and Google's webhook.

Sign-in starts from a tenant's portal with a signed, expiring state naming company, user, kind
and return URL; the callback verifies it, exchanges the code (PKCE), stores the tokens and sends
the user back to their own portal, and nowhere else.
"""
from __future__ import annotations

import hmac
from urllib.parse import urljoin

import sqlalchemy as sa
from authlib.integrations.base_client.errors import OAuthError
from flask import abort, current_app, flash, redirect, request, url_for
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from redis.exceptions import RedisError

from jobs.sync import enqueue_run, schedule_pull

from ..access import integrations_required
from ..extensions import db
from ..google import oauth
from ..integrations.service import connection_of, store_grant
from ..models import CalendarConnection, ConnectionKind, ConnectionStatus
from ..sync.polling import notified
from ..sync.runs import request_sync
from . import bp

STATE_MAX_AGE = 600


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="google-oauth-state")


def portal_base(company) -> str:
    return (company.portal_url or current_app.config["PORTAL_BASE_URL"]).rstrip("/") + "/"


def start_google_sign_in(kind: ConnectionKind):
    """Redirect to Google's consent screen with PKCE (S256) and a state bound to this session."""
    company = current_user.company
    state = _serializer().dumps({"c": company.id, "u": current_user.id, "k": kind.value,
                                 "r": urljoin(portal_base(company), url_for("integrations.index").lstrip("/"))})
    existing = connection_of(current_user, kind)
    params = {"access_type": "offline", "include_granted_scopes": "true"}
    if existing is None or not existing.refresh_token_enc or existing.status is ConnectionStatus.RECONNECT:
        params["prompt"] = "consent"  # first connect or a dead grant: make sure Google issues a refresh token
    if existing is not None and existing.google_email:
        params["login_hint"] = existing.google_email
    return oauth.google.authorize_redirect(current_app.config["GOOGLE_REDIRECT_URI"], state=state, **params)


def _read_state() -> dict:
    try:
        data = _serializer().loads(request.args.get("state", ""), max_age=STATE_MAX_AGE)
    except BadSignature:
        abort(400, "This sign-in link is invalid or has expired. Please start again from the Integrations page.")
    if data.get("u") != current_user.id or data.get("c") != current_user.company_id:
        abort(400, "This sign-in was started by another user. Please start again from the Integrations page.")
    if not data["r"].startswith(portal_base(current_user.company)):
        abort(400, "Refusing to return to a site that is not your company's portal.")
    return data


@bp.get("/google/callback")
@integrations_required
def google_callback():
    state = _read_state()
    kind = ConnectionKind(state["k"])
    if request.args.get("error"):
        flash("Google sign-in was cancelled; nothing was connected." if request.args["error"] == "access_denied"
              else f"Google sign-in failed: {request.args['error']}", "warning")
        return redirect(state["r"])
    try:
        token = oauth.google.authorize_access_token()
    except OAuthError as exc:
        abort(400, f"Google sign-in could not be completed ({exc.error}). Please try again.")
    userinfo = token.get("userinfo") or {}
    connection = store_grant(current_user, kind, token, userinfo)
    db.session.commit()
    run = request_sync(connection)  # reconnected: catch up on what changed meanwhile, both ways
    if run is not None:
        db.session.commit()
        if not enqueue_run(run):
            db.session.commit()
    if connection.status is ConnectionStatus.NEEDS_PERMISSIONS:
        flash("Connected, but some permissions were not granted: sync stays off until you grant them.", "warning")
    else:
        flash(f"Connected to Google as {connection.google_email}.", "success")
    return redirect(state["r"])


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
    if state != "sync" and connection.can_sync and connection.pulls:
        try:
            schedule_pull(connection.id)
        except RedisError:
            return "busy, retry later", 503  # Google retries 5xx with backoff; the cron sweep also pulls
    return "", 204
