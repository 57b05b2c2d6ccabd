"""The card a URL names, and the current user's connection of that kind: every action goes through ownership."""
from __future__ import annotations

from flask import abort
from flask_login import current_user

from ..models import CalendarConnection, ConnectionKind
from ..sync.connections import connection_of

KINDS = {"two-way": ConnectionKind.TWO_WAY, "one-way": ConnectionKind.ONE_WAY}
SLUGS = {kind: slug for slug, kind in KINDS.items()}


def kind_from_url(slug: str) -> ConnectionKind:
    if slug not in KINDS:
        abort(404)
    return KINDS[slug]


def own_connection(kind: ConnectionKind) -> CalendarConnection:
    """The current user's connection of that kind (404 when they have none)."""
    return connection_of(current_user, kind) or abort(404)
