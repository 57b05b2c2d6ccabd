"""Connecting and disconnecting Google accounts: shared by the Integrations page and Company Settings."""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app

from ..crypto import decrypt, encrypt
from ..extensions import db
from ..google import client_for, missing_scopes, revoke_token
from ..models import (
    CalendarConnection,
    ConnectionKind,
    ConnectionStatus,
    EventLink,
    GoogleEvent,
    PendingPush,
    User,
)
from ..sync.runs import cancel_connection_runs
from ..sync.watch import stop_channel


def connection_of(user: User, kind: ConnectionKind) -> CalendarConnection | None:
    return db.session.scalar(sa.select(CalendarConnection).where(
        CalendarConnection.user_id == user.id, CalendarConnection.kind == kind))


def store_grant(user: User, kind: ConnectionKind, token: dict, userinfo: dict) -> CalendarConnection:
    """Save what Google's token endpoint returned (encrypted) and work out the connection's state."""
    connection = connection_of(user, kind) or CalendarConnection(company_id=user.company_id, user_id=user.id,
                                                                 kind=kind)
    db.session.add(connection)
    connection.access_token_enc = encrypt(token["access_token"])
    if token.get("refresh_token"):  # Google sends one only on first consent; keep the old one otherwise
        connection.refresh_token_enc = encrypt(token["refresh_token"])
    if token.get("expires_at"):
        connection.token_expires_at = datetime.fromtimestamp(token["expires_at"], UTC).replace(tzinfo=None)
    connection.granted_scopes = " ".join(sorted(set(token.get("scope", "").split())))
    connection.google_email = userinfo.get("email", connection.google_email)
    connection.google_sub = userinfo.get("sub", connection.google_sub)
    connection.last_error = None
    if connection.status is ConnectionStatus.RECONNECT:
        connection.forget_channel()  # it was opened under the old grant, which is gone
    if missing_scopes(connection.scope_set):
        connection.status = ConnectionStatus.NEEDS_PERMISSIONS
    elif connection.calendar_id:
        connection.status = ConnectionStatus.ACTIVE
    else:
        connection.status = ConnectionStatus.NEEDS_CALENDAR
    return connection


def disconnect(connection: CalendarConnection, actor: User) -> None:
    """Stop the watch channel, revoke the token at Google, remove the connection and its links.

    Events already in Google stay there; nothing in the portal is deleted. Does not commit.
    """
    if connection.channel_id and connection.access_token_enc:
        stop_channel(client_for(connection), connection.channel_id, connection.channel_resource_id)
    revoke_token(decrypt(connection.refresh_token_enc) or decrypt(connection.access_token_enc))
    for model in (EventLink, GoogleEvent, PendingPush):
        db.session.execute(sa.delete(model).where(model.connection_id == connection.id))
    cancel_connection_runs(connection.id, "Connection deleted.")
    current_app.logger.info("user %s disconnected connection %s of user %s", actor.id, connection.id,
                            connection.user_id)
    db.session.delete(connection)


def forget_calendar(connection: CalendarConnection) -> None:
    """Switching calendars: links, Google events, sync token and watch channel belong to the old one."""
    for model in (EventLink, GoogleEvent):
        db.session.execute(sa.delete(model).where(model.connection_id == connection.id))
    stop_channel(client_for(connection), connection.channel_id, connection.channel_resource_id)
    connection.sync_token = None
    connection.forget_channel()
