"""The banner on every page while a person's sync needs them: one short line in words with the one action
that fixes it, from their open incidents (`app.sync.incidents`) and a calendar Google's use limit paused for
more than an hour. It goes by itself when the cause goes; a person may dismiss it for the day."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, has_request_context, redirect, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db
from .integrations.words import notice_words
from .menu import can_see
from .models import CalendarConnection, ConnectionKind, Incident, utcnow
from .sync.notes import Code

bp = Blueprint("notices", __name__, url_prefix="/notices")
DISMISSED_KEY = "dismissed_notices"  # {notice key: the day it was dismissed}
LONG_PAUSE = timedelta(hours=1)
SLUGS = {ConnectionKind.TWO_WAY: "two-way", ConnectionKind.ONE_WAY: "one-way"}


@dataclass(frozen=True)
class Notice:
    key: str
    words: str
    action: str | None  # the button's words
    action_url: str | None
    starts_sign_in: bool  # the action is a POST that starts Google sign-in (Reconnect, Grant)


def notice_for_user() -> Notice | None:
    """The one notice this page shows the signed-in person (the oldest cause first), or None (two queries)."""
    if not has_request_context() or not current_user.is_authenticated \
            or not can_see(current_user, "integrations.index"):
        return None  # a mail, nobody to tell, or a role whose Integrations are hidden: nothing it could do
    today, dismissed = utcnow().date().isoformat(), session.get(DISMISSED_KEY) or {}
    try:
        notices = _notices(current_user.id, current_user.timezone)
    except SQLAlchemyError:  # an error page while the database is away still gets a page
        return None
    return next((notice for notice in notices if dismissed.get(notice.key) != today), None)


def _notices(user_id: int, tz: str) -> list[Notice]:
    found = []
    for incident in db.session.scalars(sa.select(Incident).where(
            Incident.user_id == user_id, Incident.resolved_at.is_(None)).order_by(Incident.id)):
        words, action = notice_words(Code(incident.code))
        slug = SLUGS[incident.connection_kind]
        found.append(Notice(f"incident-{incident.id}", words, action,
                            url_for("integrations.index", change=slug) if incident.code == Code.CALENDAR_GONE
                            else url_for("integrations.connect", kind_slug=slug),
                            incident.code != Code.CALENDAR_GONE))
    for connection in db.session.scalars(sa.select(CalendarConnection).where(
            CalendarConnection.user_id == user_id, CalendarConnection.writes_paused_until > utcnow() + LONG_PAUSE)):
        words, _ = notice_words(Code.USE_LIMIT, until=connection.writes_paused_until, tz=tz)
        found.append(Notice(f"pause-{connection.id}", words, "See your sync", url_for("integrations.index"), False))
    return found


@bp.post("/<key>/dismiss")
@login_required
def dismiss(key: str):
    """Not today: the banner stays away until tomorrow (or a new cause)."""
    if len(key) > 40 or not key.replace("-", "").isalnum():
        abort(404)
    session[DISMISSED_KEY] = {**(session.get(DISMISSED_KEY) or {}), key: utcnow().date().isoformat()}
    back = request.form.get("back", "")
    return redirect(back if back.startswith("/") and not back.startswith("//") else url_for("main.dashboard"))
