"""The 2-way card's "Check my Google calendars for conflicts" (the rules are in `app.busy`).

Turning it on asks Google for the one free/busy permission alone, by incremental authorization: the three
permissions of the first sign-in stay as they were, and a refusal leaves the sync exactly as it was.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from ..access import integrations_required
from ..busy import choose_calendars
from ..extensions import db
from ..google import FREEBUSY_SCOPE, GoogleError, client_for
from ..models import CalendarConnection, ConnectionKind, ConnectionStatus
from ..sync.connections import connection_of, store_grant
from ..sync.notes import google_problem
from . import bp
from .forms import BusyCalendarsForm
from .owned import kind_from_url, own_connection
from .signin import BUSY, to_google
from .words import say

BUSY_ROLES = ("owner", "writer", "reader", "freeBusyReader")  # every calendar whose busy times Google tells


def own_two_way(kind_slug: str) -> CalendarConnection:
    """The current user's active 2-way connection: busy times go with it."""
    connection = own_connection(kind_from_url(kind_slug))
    if connection.kind is not ConnectionKind.TWO_WAY or connection.status is not ConnectionStatus.ACTIVE:
        abort(409, "Conflicts can be checked once your 2-WAY Sync is active.")
    return connection


def back_to_card():
    return redirect(url_for(".index") + "#busy-times")


@bp.post("/<kind_slug>/busy/on")
@integrations_required
def busy_on(kind_slug: str):
    connection = own_two_way(kind_slug)
    if FREEBUSY_SCOPE not in connection.scope_set:
        return to_google(connection.kind, BUSY)
    turn_on(connection)
    return back_to_card()


def turn_on(connection: CalendarConnection) -> None:
    choose_calendars(connection, None)
    db.session.commit()
    flash("Conflicts are now checked against your primary Google calendar. "
          "Only when you are busy is read, never what your events are.", "success")


def busy_permission_answered(kind: ConnectionKind, outcome: dict):
    """Back from Google's screen for the free/busy permission: on if granted, nothing changed otherwise."""
    connection = connection_of(current_user, kind)
    if connection is None or outcome["result"] != "granted":
        flash("Nothing changed: Google did not give the permission to see when you are busy.", "warning")
        return back_to_card()
    if outcome["userinfo"].get("sub") != connection.google_sub:
        flash(f"Nothing changed: sign in with {connection.google_email}, the Google account your sync uses.",
              "warning")
        return back_to_card()
    store_grant(current_user, kind, outcome["token"], outcome["userinfo"])
    if FREEBUSY_SCOPE not in connection.scope_set:  # the box was left unticked on Google's screen
        db.session.commit()
        flash("Nothing changed: the box to see when you are busy was not ticked on Google's screen.", "warning")
        return back_to_card()
    turn_on(connection)
    return back_to_card()


@bp.route("/<kind_slug>/busy", methods=["GET", "POST"])
@integrations_required
def busy_calendars(kind_slug: str):
    """Choose the calendars that count as busy, from the person's calendar list."""
    connection = own_two_way(kind_slug)
    if not connection.busy_calendars:
        abort(409, "Turn on “Check my Google calendars for conflicts” first.")
    form = BusyCalendarsForm(calendars=list(connection.busy_calendars))
    try:
        names = {c["id"]: c.get("summaryOverride") or c.get("summary") or c["id"]
                 for c in client_for(connection).calendars(BUSY_ROLES)}
    except GoogleError as exc:
        db.session.commit()  # a refreshed token is kept
        flash(f"Could not load your calendars from Google. {say(google_problem(exc), current_user.timezone)}",
              "danger")
        return back_to_card()
    form.calendars.choices = list(names.items())
    if form.validate_on_submit():
        if not form.calendars.data:
            form.calendars.errors.append("Choose at least one calendar, or turn checking off on the card.")
        else:
            choose_calendars(connection, {cid: names[cid] for cid in form.calendars.data})
            db.session.commit()
            flash("Saved: conflicts are checked against the calendars you chose.", "success")
            return back_to_card()
    db.session.commit()
    return render_template("integrations/busy_calendars.html", form=form, connection=connection,
                           kind_slug=kind_slug), 400 if form.errors else 200


@bp.post("/<kind_slug>/busy/off")
@integrations_required
def busy_off(kind_slug: str):
    connection = own_connection(kind_from_url(kind_slug))
    choose_calendars(connection, {})
    db.session.commit()
    flash("Conflicts are no longer checked against your Google calendars; nothing of them is kept.", "info")
    return back_to_card()
