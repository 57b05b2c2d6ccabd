"""Company Settings: branding, who sees Integrations, and the admin's view of every connection.

Admins only (`admin_required`), and everything is read and changed through the admin's own
company: no id from the request ever reaches another tenant's rows.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from redis.exceptions import RedisError
from sqlalchemy.orm import contains_eager, joinedload

from jobs.admin import disconnect_connections
from jobs.queueing import enqueue
from jobs.sync import submit

from ..access import admin_required
from ..audit import connection_summary, record
from ..extensions import db
from ..integrations.health import health_of, recent_runs
from ..integrations.words import count_of, live_updates_words, problem_words, run_words, say
from ..models import AuditLog, CalendarConnection, ConnectionStatus, Role, RunKind, User
from ..sync.connections import disconnect
from ..sync.engine import Refused, request_run
from ..sync.notes import Code
from . import bp
from .audit_words import action_label, audit_lines, target_label
from .forms import (
    HIDEABLE_ROLES,
    ROLE_GROUPS,
    CompanyProfileForm,
    ConnectionFilterForm,
    GoogleMeetForm,
    IntegrationsVisibilityForm,
)

AUDIT_ROWS_SHOWN = 20


def role_connection_counts() -> dict[Role, dict[str, int]]:
    """Per role: users with an active connection, and all connections (any status) that Disconnect all removes."""
    rows = db.session.execute(
        sa.select(User.role,
                  sa.func.count(sa.distinct(sa.case((CalendarConnection.status == ConnectionStatus.ACTIVE,
                                                     User.id)))),
                  sa.func.count(CalendarConnection.id))
        .join(User, CalendarConnection.user_id == User.id)
        .where(CalendarConnection.company_id == current_user.company_id, User.company_id == current_user.company_id)
        .group_by(User.role)
    )
    counts = {role: {"active_users": 0, "connections": 0} for role in HIDEABLE_ROLES}
    for role, active_users, connections in rows:
        if role in counts:
            counts[role] = {"active_users": active_users, "connections": connections}
    return counts


def render_settings(profile_form: CompanyProfileForm | None = None,
                    visibility_form: IntegrationsVisibilityForm | None = None, status: int = 200):
    company = current_user.company
    if profile_form is None:
        profile_form = CompanyProfileForm(name=company.name, brand_color=company.brand_color,
                                          portal_url=company.portal_url or "", company_id=company.id)
    if not company.logo_mimetype:
        del profile_form.remove_logo  # nothing to remove
    hidden = company.integrations_hidden_roles
    if visibility_form is None:
        visibility_form = IntegrationsVisibilityForm(formdata=None)
        visibility_form.load(hidden)
    audit_rows = db.session.scalars(
        sa.select(AuditLog).options(joinedload(AuditLog.actor)).where(AuditLog.company_id == company.id)
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc()).limit(AUDIT_ROWS_SHOWN))
    return render_template("settings/index.html", company=company, profile_form=profile_form,
                           visibility_form=visibility_form, role_groups=ROLE_GROUPS,
                           meet_form=GoogleMeetForm(formdata=None, google_meet=company.google_meet),
                           action_label=action_label, target_label=target_label, audit_lines=audit_lines,
                           counts=role_connection_counts(), hidden=hidden,
                           audit_rows=list(audit_rows)), status


@bp.get("/")
@admin_required
def index():
    return render_settings()


def profile_snapshot(company) -> dict:
    """The audited view of the profile: what the logo was, not its bytes."""
    logo = f"{company.logo_mimetype}, {len(company.logo):,} bytes" if company.logo else None
    return {"name": company.name, "brand_color": company.brand_color, "logo": logo, "portal_url": company.portal_url}


@bp.post("/profile")
@admin_required
def profile():
    company = current_user.company
    form = CompanyProfileForm(company_id=company.id)
    if not form.validate_on_submit():
        return render_settings(profile_form=form, status=400)
    before = profile_snapshot(company)
    company.name = form.name.data.strip()
    company.brand_color = form.brand_color.data.lower()
    company.portal_url = form.portal_url.address
    if form.logo.image_bytes:
        company.logo, company.logo_mimetype = form.logo.image_bytes, form.logo.image_type
    elif form.remove_logo.data:
        company.logo, company.logo_mimetype = None, None
    after = profile_snapshot(company)
    changed = [key for key in before if before[key] != after[key]]
    # A new upload of the very same size and type still counts as a change of logo.
    if form.logo.image_bytes and "logo" not in changed:
        changed.append("logo")
    if not changed:
        flash("Nothing to save: the branding is unchanged.", "info")
        return redirect(url_for(".index"))
    record(current_user, "settings.profile", target=f"company:{company.id}",
           before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    db.session.commit()
    flash("Branding saved." + (f" Your portal now answers at {company.portal_url}." if "portal_url" in changed
                                and company.portal_url else ""), "success")
    return redirect(url_for(".index"))


@bp.post("/visibility")
@admin_required
def visibility():
    form = IntegrationsVisibilityForm()
    if not form.validate_on_submit():
        return render_settings(visibility_form=form, status=400)
    company = current_user.company
    before = sorted(company.integrations_hidden_roles)
    after = sorted(form.hidden_roles())
    if before == after:
        flash("Nothing to save: Integrations visibility is unchanged.", "info")
        return redirect(url_for(".index"))
    company.integrations_hidden_roles = after
    record(current_user, "settings.integrations_visibility", target=f"company:{company.id}",
           before={"hidden_roles": before}, after={"hidden_roles": after})
    db.session.commit()
    shown = [Role(r).label for r in sorted(set(before) - set(after))]
    hidden = [Role(r).label for r in sorted(set(after) - set(before))]
    parts = ([f"now hidden from {', '.join(hidden)}"] if hidden else []) + (
        [f"now shown to {', '.join(shown)}"] if shown else [])
    flash(f"Integrations is {' and '.join(parts)}.", "success")
    return redirect(url_for(".index"))


@bp.post("/google-meet")
@admin_required
def google_meet():
    form = GoogleMeetForm()
    if not form.validate_on_submit():
        abort(400, "The form could not be read. Please reload the page and try again.")
    company = current_user.company
    before, after = company.google_meet, bool(form.google_meet.data)
    if before != after:
        company.google_meet = after
        record(current_user, "settings.google_meet", target=f"company:{company.id}",
               before={"google_meet": before}, after={"google_meet": after})
        db.session.commit()
    flash("Appointments synced through the 2-WAY Sync get a Google Meet link." if after else
          "Appointments no longer get a Google Meet link (links already made are kept).", "success")
    return redirect(url_for(".index"))


def company_connection_or_404(connection_id: int) -> CalendarConnection:
    """Another company's connection is simply not found."""
    connection = db.session.scalar(sa.select(CalendarConnection).where(
        CalendarConnection.id == connection_id, CalendarConnection.company_id == current_user.company_id))
    if connection is None:
        abort(404, "That connection does not exist in your company.")
    return connection


@bp.post("/roles/<role>/disconnect-all")
@admin_required
def disconnect_role(role: str):
    if role not in {r.value for r in HIDEABLE_ROLES}:
        abort(404, "Unknown role.")
    role_enum = Role(role)
    connections = list(db.session.scalars(
        sa.select(CalendarConnection).join(User, CalendarConnection.user_id == User.id)
        .where(CalendarConnection.company_id == current_user.company_id,
               User.company_id == current_user.company_id, User.role == role_enum)
        .order_by(CalendarConnection.id)))
    if not connections:
        flash(f"No {role_enum.label} has a Google connection.", "info")
        return redirect(url_for(".index"))
    # Audited now, with what is to go; the job (two Google calls a connection: not in this request) adds how it went.
    entry = record(current_user, "settings.disconnect_all", target=f"role:{role}",
                   before={"connections": [connection_summary(c) for c in connections]}, after=None)
    db.session.commit()
    try:
        enqueue(disconnect_connections, entry.id, [c.id for c in connections])
    except RedisError:
        flash("The background workers are unavailable right now. Please try again in a few minutes.", "danger")
        return redirect(url_for(".index"))
    flash(f"Disconnecting {count_of(len(connections), 'Google connection')} of role {role_enum.label}; the "
          "activity log below says when it is done.", "success")
    return redirect(url_for(".index"))


@bp.get("/connections")
@admin_required
def connections():
    form = ConnectionFilterForm(request.args)
    if not form.validate():
        messages = [error for errors in form.errors.values() for error in errors]
        abort(400, " ".join(messages))
    query = (sa.select(CalendarConnection).join(User, CalendarConnection.user_id == User.id)
             .where(CalendarConnection.company_id == current_user.company_id,
                    User.company_id == current_user.company_id)
             .options(contains_eager(CalendarConnection.user))  # one query, not one per row
             .order_by(User.name, CalendarConnection.kind))
    if form.role.data:
        query = query.where(User.role == Role(form.role.data))
    if form.status.data:
        query = query.where(CalendarConnection.status == ConnectionStatus(form.status.data))
    rows = list(db.session.scalars(query))
    runs = recent_runs(rows, limit=min(5 * len(rows), 500))
    tz = current_user.timezone
    return render_template("settings/connections.html", form=form, connections=rows,
                           filtered=bool(form.role.data or form.status.data),
                           health=health_of(rows, runs, tz, raw=True), retry_allowed=False,
                           problem_words=lambda c: problem_words(c, tz), live_updates_words=live_updates_words)


def back_to_connections():
    """Return to the overview with the admin's filters kept (only our own path, never an outside URL)."""
    return redirect(url_for(".connections", role=request.args.get("role") or None,
                            status=request.args.get("status") or None))


@bp.post("/connections/<int:connection_id>/sync")
@admin_required
def sync_connection(connection_id: int):
    connection = company_connection_or_404(connection_id)
    who = f"{connection.user.name} ({connection.kind.label})"
    try:
        run = request_run(connection, RunKind.SYNC)  # the same rules as the user's own "Sync now"
    except Refused as refusal:
        why = ("the connection needs its user's attention first." if refusal.note.code is Code.NEEDS_ATTENTION
               else say(refusal.note, current_user.timezone))
        flash(f"{who} cannot sync now: {why}", "warning")
        return back_to_connections()
    if submit(run):
        flash(f"Sync requested for {who}.", "success")
    else:
        flash(run_words(run, current_user.timezone), "danger")
    return back_to_connections()


@bp.post("/connections/<int:connection_id>/disconnect")
@admin_required
def disconnect_one(connection_id: int):
    connection = company_connection_or_404(connection_id)
    summary = connection_summary(connection)
    disconnect(connection, current_user)
    record(current_user, "connection.disconnect", target=f"user:{summary['user']}", before=summary, after=None)
    db.session.commit()
    flash(f"Disconnected {summary['user']}'s Google connection ({summary['google_email'] or 'no account'}).",
          "success")
    return back_to_connections()
