"""Connecting, choosing a calendar and disconnecting: the connection's life, used by views and jobs.

A connection's state (`ConnectionStatus`) is decided in one place, `settle_status`, and its current problem
(a code, `app.sync.notes`) is set and cleared only through `record_problem` / `clear_problem`.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from ..crypto import decrypt, encrypt
from ..extensions import db
from ..google import client_for, missing_scopes, revoke_token
from ..google.client import CalendarClient
from ..google.company_client import client_credentials, client_id_of_company
from ..models import (
    CalendarConnection,
    Company,
    ConnectionKind,
    ConnectionStatus,
    EventLink,
    GoogleEvent,
    PendingPush,
    SyncFailure,
    User,
)
from .incidents import FIXED_BY_SIGNING_IN, NEEDS_PERSON, open_incident, resolve_incidents
from .notes import Code, Note
from .runs import cancel_connection_runs
from .watch import stop_channel

log = logging.getLogger(__name__)
DEADLOCK_DETECTED = "40P01"  # PostgreSQL's SQLSTATE for the transaction it ended to break a deadlock
DELETION_TRIES = 3


def connection_of(user: User, kind: ConnectionKind) -> CalendarConnection | None:
    return db.session.scalar(sa.select(CalendarConnection).where(
        CalendarConnection.user_id == user.id, CalendarConnection.kind == kind))


def settle_status(connection: CalendarConnection, revoked: bool = False) -> None:
    """The connection's state from what it holds: a revoked grant waits for its user to sign in again; then
    every permission, then a calendar, before it syncs."""
    if revoked:
        connection.status = ConnectionStatus.RECONNECT
    elif missing_scopes(connection.scope_set):
        connection.status = ConnectionStatus.NEEDS_PERMISSIONS
    elif connection.calendar_id:
        connection.status = ConnectionStatus.ACTIVE
    else:
        connection.status = ConnectionStatus.NEEDS_CALENDAR


def record_problem(connection: CalendarConnection, note: Note, detail: str | None = None) -> None:
    """The connection's current problem, as a code; a revoked grant also stops its sync until the user acts,
    and a problem only its person can fix opens an incident (their banner, one mail)."""
    connection.problem, connection.problem_params = note.code.value, dict(note.params)
    connection.problem_detail = detail
    if note.code is Code.GRANT_REVOKED:
        settle_status(connection, revoked=True)
    if note.code in NEEDS_PERSON:
        open_incident(connection, note.code)


def clear_problem(connection: CalendarConnection) -> None:
    """The connection works again (a run went through): no problem, and no incident of one."""
    connection.problem, connection.problem_params, connection.problem_detail = None, {}, None
    if connection.id is not None:
        resolve_incidents(connection.user_id, connection.kind, NEEDS_PERSON)


def store_grant(user: User, kind: ConnectionKind, token: dict, userinfo: dict) -> CalendarConnection:
    """Save what Google's token endpoint returned (encrypted) and work out the connection's state."""
    connection = connection_of(user, kind) or CalendarConnection(company_id=user.company_id, user_id=user.id,
                                                                 kind=kind)
    db.session.add(connection)
    previous_email = None
    if connection.google_sub and userinfo.get("sub") and userinfo["sub"] != connection.google_sub:
        previous_email = connection.google_email
        release_previous_account(connection)
    reconnecting = connection.status is ConnectionStatus.RECONNECT
    connection.access_token_enc = encrypt(token["access_token"])
    if token.get("refresh_token"):  # Google sends one only on first consent; keep the old one otherwise
        connection.refresh_token_enc = encrypt(token["refresh_token"])
    if token.get("expires_at"):
        connection.token_expires_at = datetime.fromtimestamp(token["expires_at"], UTC).replace(tzinfo=None)
    connection.granted_scopes = " ".join(sorted(set(token.get("scope", "").split())))
    connection.google_email = userinfo.get("email", connection.google_email)
    connection.client_id = client_credentials(user.company)[0]  # the OAuth client this grant belongs to
    connection.google_sub = userinfo.get("sub", connection.google_sub)
    clear_problem(connection)
    if previous_email:
        record_problem(connection, Note(Code.ACCOUNT_SWITCHED, {"previous": previous_email,
                                                                "current": connection.google_email}))
    if reconnecting and connection.channel_id:
        # The channel outlived the old grant and still notifies: stop it with the new one before any new channel.
        if stop_channel(client_for(connection), connection.channel_id, connection.channel_resource_id):
            connection.forget_channel()
    settle_status(connection)
    if connection.status is not ConnectionStatus.NEEDS_PERMISSIONS:
        resolve_incidents(user.id, kind, FIXED_BY_SIGNING_IN)
    return connection


def release_previous_account(connection: CalendarConnection) -> None:
    """Signed in again with a different Google account: the first account's grant is revoked (with its
    watch channel stopped) rather than left usable, and the connection starts over on the new account,
    whose calendars are not the old ones. Does not commit."""
    if connection.channel_id and connection.access_token_enc:
        stop_channel(client_for(connection), connection.channel_id, connection.channel_resource_id)
    revoke_token(grant_to_revoke(connection))
    _delete_rows(connection, EventLink, GoogleEvent, PendingPush, SyncFailure)
    connection.refresh_token_enc = connection.sync_token = None
    connection.calendar_id = connection.calendar_summary = None
    connection.busy_calendars = None  # the new account's calendars are not the old ones
    connection.forget_channel()


def grant_to_revoke(connection: CalendarConnection) -> str | None:
    """The token to revoke at Google as this connection goes, or None when the grant must stay: another live
    connection (of anyone, in any company) holds a grant of the same OAuth client for the same Google account.
    Google keeps ONE grant per client and account, and revoking any of its tokens revokes them all."""
    token = decrypt(connection.refresh_token_enc) or decrypt(connection.access_token_enc)
    same_account = [sa.func.lower(CalendarConnection.google_email) == connection.google_email.lower()] \
        if connection.google_email else []
    if connection.google_sub:
        same_account.append(CalendarConnection.google_sub == connection.google_sub)
    if not token or not same_account:
        return token
    client_id = connection.client_id or client_credentials(connection.company)[0]
    shared = db.session.scalar(sa.select(CalendarConnection.id).join(Company).where(
        CalendarConnection.id != connection.id, sa.or_(*same_account),
        CalendarConnection.refresh_token_enc.is_not(None), CalendarConnection.status != ConnectionStatus.RECONNECT,
        sa.func.coalesce(CalendarConnection.client_id, client_id_of_company()) == client_id).limit(1))
    if shared is not None:
        log.info("connection %s: the grant stays at Google, connection %s still uses it", connection.id, shared)
        return None
    return token


def _delete_connection_rows(connection: CalendarConnection) -> None:
    """The connection's rows and the connection, in a savepoint done again when PostgreSQL ends it to break a
    deadlock: a job's transaction under way may hold a row the deletion needs and then ask for one the deletion
    holds. Either may be ended: the job then stops (`connection_gone`); the deletion, done again once the job's
    transaction is over, finds the rows free, so a click never fails on it. (The savepoint comes after the
    incidents' UPDATE, so SQLite's driver has begun the transaction: a savepoint that begins one commits it.)"""
    for attempt in range(1, DELETION_TRIES + 1):
        try:
            with db.session.begin_nested():
                _delete_rows(connection, EventLink, GoogleEvent, PendingPush, SyncFailure)
                cancel_connection_runs(connection.id, Note(Code.CONNECTION_DELETED))
                db.session.delete(connection)
            return
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != DEADLOCK_DETECTED or attempt == DELETION_TRIES:
                raise
            log.info("connection %s: its deletion met a job's writes (deadlock); done again", connection.id)


def connection_gone(connection_id: int) -> bool:
    """Whether the connection was deleted, once a deletion under way has ended (the session's transaction
    ends too). On PostgreSQL a key-share read waits for the deleting transaction, where a plain read would
    still see the row: a job that met a Disconnect halfway (a row gone, or its transaction ended by a
    deadlock) learns how the deletion ended before it says whether it failed."""
    found = db.session.execute(sa.select(CalendarConnection.id).where(CalendarConnection.id == connection_id)
                               .with_for_update(read=True, key_share=True)).first()
    db.session.rollback()
    return found is None


def _delete_rows(connection: CalendarConnection, *models) -> None:
    for model in models:
        db.session.execute(sa.delete(model).where(model.connection_id == connection.id))


def choose_calendar(connection: CalendarConnection, calendar_id: str, summary: str,
                    client: CalendarClient | None = None) -> None:
    """The calendar the connection syncs with. A different one than before starts over: the old links, Google
    events, sync token and watch channel describe the old calendar (and live updates get a new chance).
    Does not commit."""
    if connection.calendar_id and connection.calendar_id != calendar_id:
        _delete_rows(connection, EventLink, GoogleEvent, SyncFailure)
        stop_channel(client or client_for(connection), connection.channel_id, connection.channel_resource_id)
        connection.sync_token = connection.live_updates_problem = None
        connection.forget_channel()
    connection.calendar_id, connection.calendar_summary = calendar_id, summary or calendar_id
    settle_status(connection)
    resolve_incidents(connection.user_id, connection.kind, (Code.CALENDAR_GONE,))


def disconnect(connection: CalendarConnection, actor: User | None) -> None:
    """Remove the connection, its links and its runs' claim on it, then stop its watch channel and revoke its
    grant at Google (unless the grant is shared). Events already in Google stay there; nothing in the portal
    is deleted. Does not commit.

    The rows go first (flushed, so this transaction holds them): a job that meets the revoked grant a moment
    later finds its connection gone and its run cancelled, not a grant problem to report.
    """
    channel = (connection.channel_id, connection.channel_resource_id)
    client = client_for(connection) if connection.channel_id and connection.access_token_enc else None
    token = grant_to_revoke(connection)
    # Its row first: a job writing the connection meanwhile is waited for here, holding nothing it needs, and
    # a job that meets the deletion later waits for its end (`connection_gone`).
    db.session.execute(sa.select(CalendarConnection.id).where(CalendarConnection.id == connection.id)
                       .with_for_update())
    resolve_incidents(connection.user_id, connection.kind)  # the card goes: so does what it needed
    if actor is None or actor.id != connection.user_id:  # an admin's doing: its person should know
        open_incident(connection, Code.DISCONNECTED)
    _delete_connection_rows(connection)
    log.info("user %s disconnected connection %s of user %s", actor and actor.id, connection.id, connection.user_id)
    if client is not None:
        stop_channel(client, *channel)
    revoke_token(token)


def create_calendar(connection: CalendarConnection, summary: str, time_zone: str) -> tuple[str, str]:
    """"Create a new calendar for portal items": made at Google now; returns its (id, name)."""
    created = client_for(connection).create_calendar(summary, time_zone)
    return created["id"], created.get("summary", summary)
