"""Flyout Menu > Integrations: the two Google Calendar cards and their actions."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask import abort, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user
from redis.exceptions import RedisError

from jobs.sync import submit

from ..access import integrations_required
from ..extensions import db
from ..google import SCOPE_LABELS, GoogleError, client_for, missing_scopes
from ..models import (
    CalendarConnection,
    ConnectionKind,
    ConnectionStatus,
    RunKind,
    SyncRun,
    utcnow,
)
from ..sync.bulk import count_pushable
from ..sync.connections import connection_of, create_calendar, disconnect, record_problem, store_grant
from ..sync.engine import Refused, refuse_while_bulk, request_push, request_run
from ..sync.kinds import RUN_KINDS
from ..sync.notes import Code, Note, detail_of, google_problem
from . import bp
from .busy_times import busy_permission_answered
from .forms import (
    NEW_CALENDAR,
    REMOVE_EVENTS,
    WINDOW_MONTHS,
    ChangeCalendarForm,
    DeleteConnectionForm,
    PushExistingDataForm,
)
from .health import (
    active_runs,
    connection_counts,
    counts_line,
    health_of,
    history_rows,
    run_counts,
    run_for_page,
    run_kind_label,
    run_says_more,
    run_status_label,
)
from .owned import KINDS, SLUGS, kind_from_url, own_connection
from .signin import BUSY, CONNECT, HANDOFF_PATH, NONCES_KEY, UNAVAILABLE, SignInRefused, claim_handoff, to_google
from .words import count_of, live_updates_words, problem_words, run_words, say

HISTORY_LENGTH = 5
HEALTH_RUNS = 20  # the history shows HISTORY_LENGTH lines (runs that changed nothing fold); health reads all


def calendar_choices(connection: CalendarConnection) -> list[tuple[str, str]]:
    """Writable calendars from calendarList, primary first, plus a new dedicated calendar."""
    calendars = client_for(connection).calendars()  # a refreshed token is kept if the view commits
    choices = [(c["id"], c.get("summaryOverride") or c.get("summary") or c["id"]) for c in calendars]
    return choices + [(NEW_CALENDAR, "Create a new calendar for portal items")]


def load_choices(form: PushExistingDataForm, connection: CalendarConnection) -> str | None:
    """Fill the dropdown; returns the words of why Google could not be asked. Does not commit (a revoked grant
    is remembered on the connection: the caller commits it)."""
    try:
        form.calendar_id.choices = calendar_choices(connection)
    except GoogleError as exc:
        note = google_problem(exc)
        if note.code is Code.GRANT_REVOKED:
            record_problem(connection, note, detail_of(exc))
        return f"Could not load your calendars from Google. {say(note, current_user.timezone)}"
    return None


def window_start(choice: str) -> date | None:
    """The first day of Push Existing Data's window ("items from N months ago onward"), None for all."""
    months = WINDOW_MONTHS.get(choice)
    return utcnow().date() - relativedelta(months=months) if months else None


def window_choices() -> list[tuple[str, str]]:
    """The window choices, each with how many items it would push: the confirmation before the push."""
    counts = count_pushable(current_user, [window_start(choice) for choice in WINDOW_MONTHS])
    labels = [f"{count_of(count, 'item')}: all my tasks, events and appointments" if months is None else
              f"{count_of(count, 'item')} from {count_of(months, 'month')} ago onward"
              for count, months in zip(counts, WINDOW_MONTHS.values(), strict=True)]
    return list(zip(WINDOW_MONTHS, labels, strict=True))


@bp.get("/")
@integrations_required
def index():
    connections = {c.kind: c for c in db.session.scalars(sa.select(CalendarConnection).where(
        CalendarConnection.user_id == current_user.id))}
    runs = db.session.scalars(sa.select(SyncRun).where(SyncRun.user_id == current_user.id)
                              .order_by(SyncRun.id.desc()).limit(HEALTH_RUNS)).all()
    counts = connection_counts([c.id for c in connections.values()])
    forms, load_errors = {}, {}
    changing = KINDS.get(request.args.get("change", ""))  # "Change calendar" asks Google for the list
    for kind, connection in connections.items():
        if connection.status is ConnectionStatus.NEEDS_CALENDAR:
            forms[kind] = PushExistingDataForm()
            forms[kind].since.choices = window_choices()
        elif kind is changing and connection.status is ConnectionStatus.ACTIVE:
            forms[kind] = ChangeCalendarForm(calendar_id=connection.calendar_id)
        else:
            continue
        load_errors[kind] = load_choices(forms[kind], connection)
    tz = current_user.timezone
    return render_template("integrations/index.html", two_way=connections.get(ConnectionKind.TWO_WAY),
                           one_way=connections.get(ConnectionKind.ONE_WAY), history=history_rows(runs, HISTORY_LENGTH),
                           forms=forms, load_errors=load_errors, delete_form=DeleteConnectionForm(),
                           active_runs=active_runs(current_user.id), run_kinds=RUN_KINDS,
                           health=health_of(list(connections.values()), runs, tz),
                           counts=counts, counts_line=lambda c: counts_line(c, *counts[c.id]),
                           missing_labels=lambda c: [SCOPE_LABELS[s] for s in missing_scopes(c.scope_set)],
                           run_kind_label=run_kind_label, run_status_label=run_status_label, run_counts=run_counts,
                           run_words=lambda run: run_words(run, tz), problem_words=lambda c: problem_words(c, tz),
                           live_updates_words=live_updates_words, paused_words=lambda c: say(
                               Note(Code.USE_LIMIT, {"until": c.writes_paused_until.isoformat()}), tz),
                           slug_of=SLUGS.get, Status=ConnectionStatus, run_says_more=run_says_more,
                           daily_ceiling=current_app.config["PUSH_DAILY_CEILING"])


@bp.post("/<kind_slug>/connect")
@integrations_required
def connect(kind_slug: str):
    """Start Google sign-in through the broker; also used to grant missing permissions or reconnect."""
    kind = kind_from_url(kind_slug)
    other = ConnectionKind.ONE_WAY if kind is ConnectionKind.TWO_WAY else ConnectionKind.TWO_WAY
    if connection_of(current_user, other):
        abort(409, "Deactivate your 1-WAY Sync first: only one Google Calendar sync can be active."
              if other is ConnectionKind.ONE_WAY else "You already have the 2-WAY Sync.")
    return to_google(kind, CONNECT)


@bp.get(HANDOFF_PATH.removeprefix(bp.url_prefix))
@integrations_required
def google_handoff():
    """Back from the broker, on this portal's own host: store the grant if THIS session started it.

    A GET because it ends Google's chain of redirects; the signed one-time ticket and the nonce that
    `connect` (a CSRF-checked POST) put in this session stand in for the CSRF token.
    """
    try:
        kind, purpose, outcome = claim_handoff(request.args.get("ticket", ""), current_user,
                                               session.get(NONCES_KEY, []), request.host)
    except SignInRefused as refusal:
        abort(400, str(refusal))
    except RedisError:
        abort(503, UNAVAILABLE)
    if purpose == BUSY:
        return busy_permission_answered(kind, outcome)
    if outcome["result"] != "granted":
        flash("Google sign-in was cancelled; nothing was connected." if outcome["result"] == "cancelled"
              else outcome["message"], "warning")
        return redirect(url_for(".index"))
    connection = store_grant(current_user, kind, outcome["token"], outcome["userinfo"])
    db.session.commit()
    try:  # reconnected: catch up on what changed meanwhile, both ways
        submit(request_run(connection, RunKind.SYNC))
    except Refused:
        pass  # not syncing yet (no calendar, a permission missing), or a bulk run that pulls at its end
    if connection.status is ConnectionStatus.NEEDS_PERMISSIONS:
        flash("Connected, but some permissions were not granted: sync stays off until you grant them.", "warning")
    else:
        flash(f"Connected to Google as {connection.google_email}.", "success")
    return redirect(url_for(".index"))


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
        refuse_while_bulk(connection)  # before a new calendar is made for nothing
        run = request_push(connection, *target_calendar(connection, form), window_start(form.since.data))
        start(run, "Synchronization started." if run.kind is RunKind.PUSH_EXISTING else
              f"Moving your portal items to {run.calendar_summary}…")
    except GoogleError as exc:
        flash(f"Google refused to create the calendar. {say(google_problem(exc), current_user.timezone)}", "danger")
    except Refused as refusal:
        flash(say(refusal.note, current_user.timezone), "info")
    return redirect(url_for(".index"))


def start(run: SyncRun, words: str) -> None:
    """Commit the run and queue its job: `words` say it started; if it could not be queued, the run says why."""
    if submit(run):
        flash(words, "info")
    else:
        flash(run_words(run, current_user.timezone), "danger")


def target_calendar(connection: CalendarConnection, form: PushExistingDataForm) -> tuple[str, str]:
    """(calendar id, name) of the chosen calendar; "Create a new calendar" creates it now, with its name."""
    if form.calendar_id.data != NEW_CALENDAR:
        return form.calendar_id.data, dict(form.calendar_id.choices).get(form.calendar_id.data) or form.calendar_id.data
    return create_calendar(connection, form.new_calendar_summary(f"{current_user.company.name} portal"),
                           current_user.timezone)


@bp.post("/<kind_slug>/calendar")
@integrations_required
def change_calendar(kind_slug: str):
    """The active card's Save: the portal's events move to the chosen calendar (in a job, with progress)."""
    connection = own_connection(kind_from_url(kind_slug))
    if connection.status is not ConnectionStatus.ACTIVE:
        abort(409, "This connection needs attention first: see its card on the Integrations page.")
    form = ChangeCalendarForm()
    error = load_choices(form, connection)
    if error:
        flash(error, "danger")
        return redirect(url_for(".index"))
    if not form.validate_on_submit():
        abort(400, "Choose one of your own Google calendars from the list.")
    if form.calendar_id.data == connection.calendar_id:
        flash(f"Your portal items already sync with {connection.calendar_summary}.", "info")
        return redirect(url_for(".index"))
    try:
        run = request_run(connection, RunKind.CHANGE_CALENDAR)  # committed with a token Google refreshed meanwhile
        run.calendar_id, run.calendar_summary = target_calendar(connection, form)
        start(run, f"Moving your portal items to {run.calendar_summary}…")
    except GoogleError as exc:
        db.session.rollback()
        flash(f"Google refused to create the calendar. {say(google_problem(exc), current_user.timezone)}", "danger")
    except Refused as refusal:
        flash(say(refusal.note, current_user.timezone), "info")
    return redirect(url_for(".index"))


@bp.post("/<kind_slug>/sync")
@integrations_required
def sync_now(kind_slug: str):
    connection = own_connection(kind_from_url(kind_slug))
    try:
        start(request_run(connection, RunKind.SYNC), "Synchronization started.")
    except Refused as refusal:
        flash(say(refusal.note, current_user.timezone), "info")
    return redirect(url_for(".index"))


@bp.post("/<kind_slug>/delete")
@integrations_required
def delete(kind_slug: str):
    kind = kind_from_url(kind_slug)
    connection = own_connection(kind)
    form = DeleteConnectionForm()
    if not form.validate_on_submit():
        abort(400, "Choose whether to keep or remove the events already in Google.")
    if form.events.data == REMOVE_EVENTS and connection.can_sync:
        # The copies leave Google in batches (with progress); the job then revokes and deletes as below. A push or
        # a move under way stops here (its next slice finds its run ended) rather than keep the removal waiting.
        start(request_run(connection, RunKind.REMOVE_EVENTS),
              f"Removing your portal events from Google; then the {kind.label} Sync is deleted.")
        return redirect(url_for(".index"))
    kept = " (they could not be removed: the connection needed attention)" if form.events.data == REMOVE_EVENTS else ""
    disconnect(connection, current_user)
    db.session.commit()
    flash(f"Google Calendar ({kind.label} Sync) deleted. Events already in Google stay there{kept}.", "info")
    return redirect(url_for(".index"))


@bp.get("/runs/<int:run_id>")
@integrations_required
def run_status(run_id: int):
    run = db.session.scalar(sa.select(SyncRun).where(SyncRun.id == run_id, SyncRun.user_id == current_user.id))
    if run is None:
        return jsonify(error="No such sync run."), 404
    return jsonify(run_for_page(run, current_user.timezone))
