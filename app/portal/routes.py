"""Tasks, Events and Appointments: list, detail, new, edit, soft delete, and the Trash.

One set of views serves the three kinds (see `kinds.KINDS`); each kind gets its own endpoints
(`portal.task_list`, `portal.event_edit`, ...) so menus and links name them plainly.
Every item is fetched through `queries`, which applies the tenant and visibility rules.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from ..extensions import db
from ..models import User, utcnow
from ..models.items import VIDEO_MEET, VIDEO_NONE, PortalItem
from ..sync.failures import failures_for, retry_failure
from . import bp
from .conflicts import Check, check
from .forms import ItemForm, default_zone
from .history import item_history
from .kinds import KINDS, Kind, item_url
from .queries import get_visible_item_or_404, visible_items

ID = "<int(max=2147483647):item_id>"  # larger ids cannot exist and would overflow the database driver

bp.add_app_template_global(item_url, "item_url")


def pickable_people(user: User) -> list[User]:
    """Who the user may put on an item: staff pick anyone in the company; contacts pick staff and
    themselves, so one client never learns the names of the company's other clients."""
    people = db.session.scalars(sa.select(User).where(User.company_id == user.company_id).order_by(User.name)).all()
    return list(people) if user.is_staff else [p for p in people if p.is_staff or p.id == user.id]


def build_form(kind: Kind, user: User) -> ItemForm:
    form = kind.form(people=pickable_people(user), data={"timezone": default_zone(user)})
    if kind.people_attr and not user.is_staff:
        getattr(form, kind.people_attr).description = "You are always included."
    return form


def keep_participants(kind: Kind, form: ItemForm, item: PortalItem, before: list[User], user: User) -> None:
    """A contact's edit keeps the participants they cannot see in the picker, and always includes them."""
    if not kind.people_attr or user.is_staff:
        return
    chosen = list(getattr(item, kind.people_attr))
    hidden = [p for p in before if p.id not in form.people]
    merged = {p.id: p for p in [*chosen, *hidden, user]}
    setattr(item, kind.people_attr, list(merged.values()))


def manageable_item(kind: Kind, item_id: int, *, trashed: bool = False) -> PortalItem:
    item = get_visible_item_or_404(kind.model, item_id, current_user, trashed=trashed)
    if not kind.can_manage(item, current_user):
        abort(403, f"You can view this {kind.label.lower()} but only staff or its creator can change it.")
    return item


def render_item_form(kind: Kind, form: ItemForm, item: PortalItem | None, busy: Check | None = None) -> tuple[str, int]:
    status = (409 if busy else 400) if request.method == "POST" else 200
    return render_template("portal/form.html", kind=kind, form=form, item=item, busy=busy,
                           tz=form.timezone.data if hasattr(form, "timezone") else current_user.timezone), status


def busy_warning(form: ItemForm, user: User) -> Check | None:
    """A conflict with someone's Google calendar not yet seen by the person saving (see app.portal.conflicts)."""
    booking = form.booking()
    if booking is None:
        return None
    people, start, end = booking
    people = list({person.id: person for person in [*people, user]}.values())
    found = check(people, start, end, form.timezone.data)
    if found.warns and request.form.get("busy_seen") != found.fingerprint:
        db.session.commit()  # nothing is saved but a Google token refreshed for the check (else refreshed again)
        return found
    return None


@login_required
def item_list(kind: str) -> str:
    spec = KINDS[kind]
    items = db.session.scalars(visible_items(spec.model, current_user).options(*spec.model.with_participants())).all()
    return render_template("portal/list.html", kind=spec, items=sorted(items, key=spec.sort_key),
                           can_create=spec.can_create(current_user))


@login_required
def item_detail(kind: str, item_id: int) -> str:
    spec = KINDS[kind]
    item = get_visible_item_or_404(spec.model, item_id, current_user)
    return render_template("portal/detail.html", kind=spec, item=item,
                           history=item_history(item, current_user.timezone),
                           can_manage=spec.can_manage(item, current_user),
                           sync_failures=failures_for(current_user, item))


@login_required
def item_new(kind: str) -> Response | tuple[str, int]:
    spec = KINDS[kind]
    if not spec.can_create(current_user):
        abort(403, f"Only staff can create {spec.plural}.")
    form = build_form(spec, current_user)
    if form.validate_on_submit():
        if busy := busy_warning(form, current_user):
            return render_item_form(spec, form, None, busy)
        item = spec.model(company_id=current_user.company_id, created_by_id=current_user.id)
        form.apply(item, current_user)
        keep_participants(spec, form, item, [], current_user)
        db.session.add(item)
        db.session.commit()
        flash(f"{spec.label} “{item.title}” created.", "success")
        return redirect(item_url(item))
    if request.method == "GET":
        preselect_creator(spec, form, current_user)
    return render_item_form(spec, form, None)


def preselect_creator(kind: Kind, form: ItemForm, user: User) -> None:
    """A new item starts with its creator on it, which is what people usually want, and an appointment with the
    company's video choice."""
    if kind.people_attr:
        getattr(form, kind.people_attr).data = [user.id]
    elif user.is_staff and hasattr(form, "staff"):
        form.staff.data = user.id
    if hasattr(form, "video"):  # the company's Meet switch is the default, the appointment decides
        form.video.data = VIDEO_MEET if user.company.google_meet else VIDEO_NONE


@login_required
def item_edit(kind: str, item_id: int) -> Response | tuple[str, int]:
    spec = KINDS[kind]
    item = manageable_item(spec, item_id)
    form = build_form(spec, current_user)
    if form.validate_on_submit():
        if busy := busy_warning(form, current_user):
            return render_item_form(spec, form, item, busy)
        before = list(getattr(item, spec.people_attr)) if spec.people_attr else []
        form.apply(item, current_user)
        keep_participants(spec, form, item, before, current_user)
        db.session.commit()
        flash(f"{spec.label} “{item.title}” saved.", "success")
        return redirect(item_url(item))
    if request.method == "GET":
        form.load(item, current_user)
    return render_item_form(spec, form, item)


@login_required
def item_delete(kind: str, item_id: int) -> Response:
    """Soft delete: the sync engine removes the Google copies, and the Trash can bring it back."""
    spec = KINDS[kind]
    item = manageable_item(spec, item_id)
    item.deleted_at = utcnow()
    db.session.commit()
    flash(f"{spec.label} “{item.title}” moved to the Trash. You can restore it from there.", "success")
    return redirect(url_for(spec.endpoint("list")))


@login_required
def item_sync_retry(kind: str, item_id: int) -> Response:
    """Retry: send the item again to the current user's own Google calendars where it is missing."""
    spec = KINDS[kind]
    item = get_visible_item_or_404(spec.model, item_id, current_user)
    retried = [failure for failure in failures_for(current_user, item) if failure.can_retry]
    for failure in retried:
        retry_failure(failure)
    db.session.commit()  # the push is scheduled once the outbox row is committed
    if retried:
        flash(f"{spec.label} “{item.title}” will be sent to Google again in a moment.", "info")
    else:
        flash(f"Nothing to retry: {spec.label.lower()} “{item.title}” is not waiting for Google.", "info")
    return redirect(url_for("integrations.index") if request.form.get("back") == "integrations" else item_url(item))


for _kind in KINDS.values():
    _base = f"/{_kind.plural}"
    _defaults = {"kind": _kind.name}
    bp.add_url_rule(_base, f"{_kind.name}_list", item_list, defaults=_defaults)
    bp.add_url_rule(f"{_base}/new", f"{_kind.name}_new", item_new, defaults=_defaults, methods=["GET", "POST"])
    bp.add_url_rule(f"{_base}/{ID}", f"{_kind.name}_detail", item_detail, defaults=_defaults)
    bp.add_url_rule(f"{_base}/{ID}/edit", f"{_kind.name}_edit", item_edit, defaults=_defaults, methods=["GET", "POST"])
    bp.add_url_rule(f"{_base}/{ID}/delete", f"{_kind.name}_delete", item_delete, defaults=_defaults, methods=["POST"])
    bp.add_url_rule(f"{_base}/{ID}/sync/retry", f"{_kind.name}_sync_retry", item_sync_retry, defaults=_defaults,
                    methods=["POST"])


@bp.post(f"/tasks/{ID}/done")
@login_required
def task_toggle_done(item_id: int) -> Response:
    """Anyone who sees a task (staff, or an assignee) may tick it off, even without the right to edit it."""
    task = get_visible_item_or_404(KINDS["task"].model, item_id, current_user)
    task.done = not task.done
    db.session.commit()
    flash(f"Task “{task.title}” marked {'done' if task.done else 'not done'}.", "success")
    return redirect(item_url(task))


@bp.route("/trash")
@login_required
def trash() -> str:
    entries = []
    for spec in KINDS.values():
        model = spec.model
        for item in db.session.scalars(visible_items(model, current_user, trashed=True)):
            entries.append((spec, item, spec.can_manage(item, current_user)))
    entries.sort(key=lambda entry: entry[1].deleted_at, reverse=True)
    return render_template("portal/trash.html", entries=entries)


@bp.post(f"/trash/<any(task, event, appointment):kind>/{ID}/restore")
@login_required
def restore(kind: str, item_id: int) -> Response:
    spec = KINDS[kind]
    item = manageable_item(spec, item_id, trashed=True)
    item.deleted_at = None
    db.session.commit()
    flash(f"{spec.label} “{item.title}” restored.", "success")
    return redirect(url_for("portal.trash"))
