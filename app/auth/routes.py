import functools
import secrets
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db, login_manager
from ..models import Company, User
from ..security import throttle_login
from ..tenancy import companies_signing_in_on
from . import bp
from .forms import LoginForm


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


def safe_next(target: str | None) -> str:
    """Only same-site paths: never a scheme, host or protocol-relative URL."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("main.dashboard")


@functools.cache
def dummy_password_hash() -> str:
    """A hash made like users' own (same method and cost), of a password nobody knows."""
    return generate_password_hash(secrets.token_urlsafe(32))


def find_login_user(email: str, password: str, company_slug: str | None,
                    host: str) -> tuple[User | None, str | None]:
    """The user these credentials name among the companies served on this host (see app.tenancy)."""
    query = sa.select(User).join(Company).where(sa.func.lower(User.email) == email.lower(),
                                                companies_signing_in_on(host))
    if company_slug:
        query = query.where(Company.slug == company_slug.strip().lower())
    candidates = list(db.session.scalars(query))
    if not candidates:
        # The same hash work as for a known email, so the answer's timing does not tell which emails exist.
        check_password_hash(dummy_password_hash(), password)
    matches = [u for u in candidates if u.check_password(password)]
    if len(matches) > 1:
        return None, "This email is used in several portals: please enter your company code."
    return (matches[0], None) if matches else (None, "Wrong email or password.")


@bp.route("/login", methods=["GET", "POST"])
@throttle_login
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user, error = find_login_user(form.email.data, form.password.data, form.company.data, request.host)
        if user:
            login_user(user)
            return redirect(safe_next(form.next.data))
        form.password.errors.append(error)
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
