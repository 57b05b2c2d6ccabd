"""Google push notifications: one watch channel per 2-way connection, renewed before it expires."""
from __future__ import annotations

import secrets
from datetime import UTC, datetime

from flask import current_app

from ..google import GoogleError
from ..google.client import CalendarClient
from ..models import CalendarConnection
from .polling import channel_opened


def webhook_address() -> str:
    return current_app.config["WEBHOOK_BASE_URL"].rstrip("/") + "/broker/google/notifications"


def start_watch(client: CalendarClient, connection: CalendarConnection) -> None:
    """Open a new channel (channels cannot be renewed) and stop the old one."""
    old = (connection.channel_id, connection.channel_resource_id)
    channel_id = secrets.token_hex(16)
    token = secrets.token_urlsafe(32)
    response = client.watch(connection.calendar_id, channel_id, webhook_address(), token,
                            current_app.config["WATCH_TTL_SECONDS"])
    connection.channel_id, connection.channel_token = channel_id, token
    connection.channel_resource_id = response.get("resourceId")
    expiration = response.get("expiration")
    connection.channel_expires_at = (
        datetime.fromtimestamp(int(expiration) / 1000, UTC).replace(tzinfo=None) if expiration else None)
    channel_opened(connection)
    if old[0]:
        stop_channel(client, *old)


def stop_channel(client: CalendarClient, channel_id: str | None, resource_id: str | None) -> None:
    if not channel_id or not resource_id:
        return
    try:
        client.stop_channel(channel_id, resource_id)
    except GoogleError as exc:  # an expired or unknown channel is already stopped
        current_app.logger.info("stopping channel %s: %s", channel_id, exc)

