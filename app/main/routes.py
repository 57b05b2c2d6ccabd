from flask import Response, abort, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..models import Company
from . import bp


@bp.route("/")
def home():
    return redirect(url_for("main.dashboard" if current_user.is_authenticated else "auth.login"))


@bp.route("/dashboard")
@login_required
def dashboard():
    from ..portal.kinds import KINDS
    from ..portal.queries import upcoming_items

    tz = current_user.timezone
    # The first detail of every kind is when it happens ("Due" / "When"), in the viewer's time zone.
    coming_up = [(item, KINDS[item.kind].details[0].value(item, tz))
                 for item in upcoming_items(current_user, limit=10)]
    return render_template("main/dashboard.html", coming_up=coming_up)


@bp.route("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says: send them to the real icon."""
    return redirect(url_for("static", filename="favicon.svg"), 301)


@bp.route("/company/<int:company_id>/logo")
@login_required
def company_logo(company_id: int):
    # Only one's own company's: counting through ids must not reveal which brands the platform serves.
    company = db.session.get(Company, company_id) if company_id == current_user.company_id else None
    if not company or not company.logo:
        abort(404)
    return Response(company.logo, mimetype=company.logo_mimetype,
                    headers={"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"})
