"""Flyout Menu > Integrations: the two Google Calendar cards and their actions."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, jsonify, redirect, render_template, url_for
from flask_login import current_user

from jobs.sync import enqueue_run

from ..access import integrations_required
from ..extensions import db
from ..google import SCOPE_LABELS, AuthRevoked, GoogleError, client_for, missing_scopes
from ..models import CalendarConnection, ConnectionKind, ConnectionStatus, EventLink, GoogleEvent, RunKind, SyncRun
from ..sync.runs import new_run, request_sync
from . import bp
from .forms import NEW_CALENDAR, PushExistingDataForm
from .service import connection_of, disconnect, forget_calendar

KINDS = {"two-way": ConnectionKind.TWO_WAY, "one-way": ConnectionKind.ONE_WAY}
HISTORY_LENGTH = 5


def kind_from_url(slug: str) -> ConnectionKind:
    if slug not in KINDS:
        abort(404)
    return KINDS[slug]


def own_connection(kind: ConnectionKind) -> CalendarConnection:
    """The current user's connection of that kind: every action goes through ownership."""
    return connection_of(current_user, kind) or abort(404)


def calendar_choices(connection: CalendarConnection) -> list[tuple[str, str]]:
    """Writable calendars from calendarList, primary first, plus a new dedicated calendar."""
    calendars = client_for(connection).writable_calendars()  # a refreshed token is kept if the view commits
    choices = [(c["id"], c.get("summaryOverride") or c.get("summary") or c["id"]) for c in calendars]
    return choices + [(NEW_CALENDAR, "Create a new calendar for portal items")]


def load_choices(form: PushExistingDataForm, connection: CalendarConnection) -> str | None:
    """Fill the dropdown; returns a plain-words error when Google could not be asked. Does not commit."""
    try:
        form.calendar_id.choices = calendar_choices(connection)
    except AuthRevoked as exc:
        connection.status, connection.last_error = ConnectionStatus.RECONNECT, str(exc)
        return str(exc)
    except GoogleError as exc:
        return f"Could not load your calendars from Google: {exc}"
    return None


@bp.get("/")
@integrations_required
def index():
    connections = {c.kind: c for c in db.session.scalars(sa.select(CalendarConnection).where(
        CalendarConnection.user_id == current_user.id))}
    runs = db.session.scalars(sa.select(SyncRun).where(SyncRun.user_id == current_user.id)
                              .order_by(SyncRun.id.desc()).limit(HISTORY_LENGTH)).all()
    ids = [c.id for c in connections.values()]
    counts = {model: dict(db.session.execute(sa.select(model.connection_id, sa.func.count()).where(
        model.connection_id.in_(ids)).group_by(model.connection_id)).all()) if ids else {}
        for model in (EventLink, GoogleEvent)}
    forms, load_errors = {}, {}
    for kind, connection in connections.items():
        if connection.status is ConnectionStatus.NEEDS_CALENDAR:
            forms[kind] = PushExistingDataForm()
            load_errors[kind] = load_choices(forms[kind], connection)
    return render_template("integrations/index.html", two_way=connections.get(ConnectionKind.TWO_WAY),
                           one_way=connections.get(ConnectionKind.ONE_WAY), runs=runs, forms=forms,
                           load_errors=load_errors, active_run=next((r for r in runs if not r.finished), None),
                           pushed_counts=counts[EventLink], google_counts=counts[GoogleEvent],
                           missing_labels=lambda c: [SCOPE_LABELS[s] for s in missing_scopes(c.scope_set)],
                           Status=ConnectionStatus)


@bp.post("/<kind_slug>/connect")
@integrations_required
def connect(kind_slug: str):
    """Start Google sign-in through the broker; also used to grant missing permissions or reconnect."""
    from ..broker.routes import start_google_sign_in

    kind = kind_from_url(kind_slug)
    other = ConnectionKind.ONE_WAY if kind is ConnectionKind.TWO_WAY else ConnectionKind.TWO_WAY
    if connection_of(current_user, other):
        abort(409, "Deactivate your 1-WAY Sync first: only one Google Calendar sync can be active."
              if other is ConnectionKind.ONE_WAY else "You already have the 2-WAY Sync.")
    return start_google_sign_in(kind)


@bp.post("/<kind_slug>/push")
@integrations_required
def push_existing(kind_slug: str):
    connection = own_connection(kind_from_url(kind_slug))
    if connection.status not in (ConnectionStatus.NEEDS_CALENDAR, ConnectionStatus.ACTIVE):
        abort(409, "This connection needs attention first: see its card on the Integrations page.")
    form = PushExistingDataForm()
    error = load_choices(form, connection)
    if error:  # Google could not be asked: not the user's fault, say it on the page
        db.session.commit()  # a revoked grant is remembered
        flash(error, "danger")
        return redirect(url_for(".index"))
    if not form.validate_on_submit():
        abort(400, "Choose one of your own Google calendars from the list.")
    try:
        choose_calendar(connection, form.calendar_id.data, dict(form.calendar_id.choices))
    except GoogleError as exc:
        flash(f"Google refused to create the calendar: {exc}", "danger")
        return redirect(url_for(".index"))
    start_run(new_run(connection, RunKind.PUSH_EXISTING))
    return redirect(url_for(".index"))


def start_run(run: SyncRun) -> None:
    """Commit the run, then enqueue its job; one that cannot be queued ends "failed" in plain words."""
    db.session.commit()
    if enqueue_run(run):
        flash("Synchronization started.", "info")
    else:
        db.session.commit()
        flash(run.message, "danger")


def choose_calendar(connection: CalendarConnection, calendar_id: str, labels: dict[str, str]) -> None:
    if calendar_id == NEW_CALENDAR:
        created = client_for(connection).create_calendar(f"{current_user.company.name} portal",
                                                         current_user.timezone)
        calendar_id, labels[calendar_id] = created["id"], created.get("summary", created["id"])
    if connection.calendar_id and connection.calendar_id != calendar_id:
        forget_calendar(connection)  # a different calendar: the old links and sync state describe the old one
    connection.calendar_id, connection.calendar_summary = calendar_id, labels.get(calendar_id, calendar_id)
    connection.status = ConnectionStatus.ACTIVE


@bp.post("/<kind_slug>/sync")
@integrations_required
def sync_now(kind_slug: str):
    run = request_sync(own_connection(kind_from_url(kind_slug)))
    if run is None:
        flash("Synchronization could not start: the connection needs attention (see the card).", "warning")
    else:
        start_run(run)
    return redirect(url_for(".index"))


@bp.post("/<kind_slug>/delete")
@integrations_required
def delete(kind_slug: str):
    kind = kind_from_url(kind_slug)
    disconnect(own_connection(kind), current_user)
    db.session.commit()
    flash(f"Google Calendar ({kind.label} Sync) deleted. Events already in Google stay there.", "info")
    return redirect(url_for(".index"))


@bp.get("/runs/<int:run_id>")
@integrations_required
def run_status(run_id: int):
    run = db.session.scalar(sa.select(SyncRun).where(SyncRun.id == run_id, SyncRun.user_id == current_user.id))
    if run is None:
        return jsonify(error="No such sync run."), 404
    return jsonify(run.as_dict())
