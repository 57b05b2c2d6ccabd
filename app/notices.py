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
    """The person's open incidents, oldest first, then any long use-limit pause: one query for both."""
    incidents = sa.select(sa.literal("incident").label("source"), Incident.id, Incident.code,
                          Incident.connection_kind.label("kind"), sa.cast(sa.null(), sa.DateTime).label("until")).where(
        Incident.user_id == user_id, Incident.resolved_at.is_(None))
    pauses = sa.select(sa.literal("pause"), CalendarConnection.id, sa.null(), CalendarConnection.kind,
                       CalendarConnection.writes_paused_until).where(
        CalendarConnection.user_id == user_id, CalendarConnection.writes_paused_until > utcnow() + LONG_PAUSE)
    rows = db.session.execute(sa.union_all(incidents, pauses).order_by("source", "id")).all()
    return [_incident_notice(row) if row.source == "incident" else _pause_notice(row, tz) for row in rows]


def _incident_notice(row) -> Notice:
    code, slug = Code(row.code), SLUGS[row.kind]  # the first SELECT's types: `kind` is a ConnectionKind
    words, action = notice_words(code)
    if code is Code.CALENDAR_GONE:  # choosing another calendar is a page, not a sign-in
        return Notice(f"incident-{row.id}", words, action, url_for("integrations.index", change=slug), False)
    return Notice(f"incident-{row.id}", words, action, url_for("integrations.connect", kind_slug=slug), True)


def _pause_notice(row, tz: str) -> Notice:
    words, _ = notice_words(Code.USE_LIMIT, until=row.until, tz=tz)
    return Notice(f"pause-{row.id}", words, "See your sync", url_for("integrations.index"), False)


@bp.post("/<key>/dismiss")
@login_required
def dismiss(key: str):
    """Not today: the banner stays away until tomorrow (or a new cause)."""
    if len(key) > 40 or not key.replace("-", "").isalnum():
        abort(404)
    session[DISMISSED_KEY] = {**(session.get(DISMISSED_KEY) or {}), key: utcnow().date().isoformat()}
    back = request.form.get("back", "")
    return redirect(back if back.startswith("/") and not back.startswith("//") else url_for("main.dashboard"))
