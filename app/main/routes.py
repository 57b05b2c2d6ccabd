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
    from ..portal.queries import upcoming_items

    return render_template("main/dashboard.html", items=upcoming_items(current_user, limit=10))


@bp.route("/company/<int:company_id>/logo")
@login_required
def company_logo(company_id: int):
    # Only one's own company's: counting through ids must not reveal which brands the platform serves.
    company = db.session.get(Company, company_id) if company_id == current_user.company_id else None
    if not company or not company.logo:
        abort(404)
    return Response(company.logo, mimetype=company.logo_mimetype,
                    headers={"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"})
