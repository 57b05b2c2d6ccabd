"""Google push notifications: one watch channel per 2-way connection, renewed before it expires.

Live updates are an optimisation: when Google refuses a channel (a non-HTTPS address, a fault), the
connection keeps syncing by polling (`app.sync.polling`: often while it has no trusted channel), the card
says why (a code on the connection), and the renewal asks again after WATCH_RETRY_HOURS. A refused channel
never fails a sync.
"""
from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime

from ..google import AuthRevoked, GoogleError
from ..google.client import CalendarClient
from ..models import CalendarConnection
from .notes import Code
from .polling import channel_opened
from .settings import SyncSettings

log = logging.getLogger(__name__)


def start_watch(client: CalendarClient, connection: CalendarConnection, settings: SyncSettings) -> None:
    """Open a new channel (channels cannot be renewed), stopping the old one first: a connection never
    has two live channels, whatever path opens one (renewal, reconnect, "Sync now")."""
    if not stop_channel(client, connection.channel_id, connection.channel_resource_id):
        return  # the old channel still runs and still reaches us: keep it; the next renewal tries again
    connection.forget_channel()
    channel_id = secrets.token_hex(16)
    token = secrets.token_urlsafe(32)
    response = client.watch(connection.calendar_id, channel_id, settings.webhook_url, token,
                            settings.watch_ttl_seconds)
    connection.channel_id, connection.channel_token = channel_id, token
    connection.channel_resource_id = response.get("resourceId")
    expiration = response.get("expiration")
    connection.channel_expires_at = (
        datetime.fromtimestamp(int(expiration) / 1000, UTC).replace(tzinfo=None) if expiration else None)
    channel_opened(connection, settings)


def watch_or_poll(client: CalendarClient, connection: CalendarConnection, settings: SyncSettings) -> bool:
    """Open a channel if Google accepts one; otherwise record (a code) why we poll instead.

    Only a revoked grant escapes (the whole sync needs the user then); the old channel, if any, stays.
    """
    try:
        start_watch(client, connection, settings)
    except AuthRevoked:
        raise
    except GoogleError as exc:
        log.warning("watch refused for connection %s: %s %s %s", connection.id, exc.status, exc.reason, exc)
        connection.live_updates_problem = _why_refused(exc).value
        return False
    connection.live_updates_problem = None
    return True


def _why_refused(error: GoogleError) -> Code:
    if error.reason == "push.webhookUrlNotHttps":
        return Code.LIVE_UPDATES_NOT_HTTPS
    if error.status and 400 <= error.status < 500:
        return Code.LIVE_UPDATES_REFUSED
    return Code.LIVE_UPDATES_UNREACHABLE


def stop_channel(client: CalendarClient, channel_id: str | None, resource_id: str | None) -> bool:
    """True when the channel no longer runs: stopped now, or already expired or unknown to Google."""
    if not channel_id or not resource_id:
        return True
    try:
        client.stop_channel(channel_id, resource_id)
    except GoogleError as exc:
        log.info("stopping channel %s: %s", channel_id, exc)
        return exc.status == 404
    return True
