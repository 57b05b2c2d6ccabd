"""Signing in and out. Sessions live on the server (`UserSession`): the cookie holds a random token, which
is valid only while its row says so and only on the host (the company's portal) it was issued on."""
import functools
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from redis.exceptions import RedisError
from werkzeug.security import check_password_hash, generate_password_hash

from jobs.mail import send_password_reset
from jobs.queueing import enqueue

from ..branding import current_brand
from ..extensions import db, limiter, login_manager
from ..models import Company, Role, User, UserSession, utcnow
from ..passwords import user_for_reset
from ..security import (
    account_limit,
    failed_login,
    password_check_key,
    reset_ip_key,
    reset_limit,
    throttle_login,
)
from ..tenancy import companies_signing_in_on, serves
from . import bp
from .forms import ChangePasswordForm, ForgotPasswordForm, LoginForm, MailPreferencesForm, ResetPasswordForm

SESSION_KEY = "sid"
SESSION_LIFETIME = timedelta(days=14)  # a browser left signed in signs in again after this


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The user of this browser's live session on this host (one query), or nobody."""
    token = session.get(SESSION_KEY)
    if not user_id.isdigit() or not isinstance(token, str):
        return None
    return db.session.scalar(sa.select(User).join(UserSession, UserSession.user_id == User.id).where(
        User.id == int(user_id), UserSession.token == token, UserSession.ended_at.is_(None),
        UserSession.host == request.host.lower(), UserSession.created_at > utcnow() - SESSION_LIFETIME))


def start_session(user: User) -> None:
    """A new server-side session for this browser on this host (a fresh cookie: nothing carried over)."""
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(token=token, user_id=user.id, host=request.host.lower()))
    db.session.commit()
    session.clear()
    session[SESSION_KEY] = token
    login_user(user)


def end_sessions(user: User, only: str | None = None) -> None:
    """End one of the user's sessions (`only`: its token) or all of them, on the server. Commits."""
    query = sa.update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    db.session.execute((query.where(UserSession.token == only) if only else query).values(ended_at=utcnow()))
    db.session.commit()


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
    if current_brand().company is not None:
        del form.company  # the host says whose portal this is: nobody is asked for a company code
    if form.validate_on_submit():
        company_code = form.company.data if "company" in form else None
        user, error = find_login_user(form.email.data, form.password.data, company_code, request.host)
        if user:
            start_session(user)
            return redirect(safe_next(form.next.data))
        form.password.errors.append(error)
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(reset_limit, key_func=reset_ip_key, methods=["POST"])
def forgot_password():
    """A link to choose a new password, by mail. The answer is the same whether or not the address has an
    account here, so the page tells nobody which addresses do."""
    form = ForgotPasswordForm()
    if current_brand().company is not None:
        del form.company  # the host says whose portal this is
    if form.validate_on_submit():
        user = reset_candidate(form.email.data, form.company.data if "company" in form else None, request.host)
        if user is not None:
            try:
                enqueue(send_password_reset, user.id)
            except RedisError:
                flash("We cannot send mail right now. Please try again in a few minutes.", "danger")
                return render_template("auth/forgot_password.html", form=form), 503
        flash("If an account here uses that address, we have sent it a link to choose a new password. "
              "The link works for an hour.", "info")
        return redirect(url_for("auth.login"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/forgot_password.html", form=form), status


def reset_candidate(email: str, company_slug: str | None, host: str) -> User | None:
    """The one person this address names among the companies served on this host, if exactly one."""
    query = sa.select(User).join(Company).where(sa.func.lower(User.email) == email.strip().lower(),
                                                companies_signing_in_on(host))
    if company_slug:
        query = query.where(Company.slug == company_slug.strip().lower())
    people = db.session.scalars(query.limit(2)).all()
    return people[0] if len(people) == 1 else None


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """The link's page, on the person's own portal: a new password, and every session of theirs ended."""
    user = user_for_reset(token)
    if user is None or not serves(request.host, user.company_id):
        abort(400, "This link is invalid, has expired or was used already. Ask for a new one from the sign-in page.")
    form = ResetPasswordForm()
    if form.validate_on_submit():
        user.set_password(form.new_password.data)
        end_sessions(user)
        flash("Your new password is saved. Sign in with it.", "success")
        return redirect(url_for("auth.login"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/reset_password.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    end_sessions(current_user, only=session.get(SESSION_KEY))
    return signed_out("You are signed out.")


@bp.post("/logout/everywhere")
@login_required
def logout_everywhere():
    """Every browser and device this person signed in on, this one included."""
    end_sessions(current_user)
    return signed_out("You are signed out on every device.")


def signed_out(words: str):
    logout_user()
    session.pop(SESSION_KEY, None)
    flash(words, "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit(account_limit, key_func=password_check_key, methods=["POST"], deduct_when=failed_login)
def change_password():
    """A new password signs the person out everywhere else (a stolen session ends with the old password)."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append("This is not your current password.")
        else:
            user = current_user._get_current_object()
            user.set_password(form.new_password.data)
            end_sessions(user)
            start_session(user)
            flash("Your password is changed, and you are signed out on every other device.", "success")
            return redirect(url_for("main.dashboard"))
    status = 400 if request.method == "POST" else 200
    return account_page(form, mail_preferences_form()), status


@bp.post("/account/mail")
@login_required
def mail_preferences():
    """Turn the sync-needs-you mails (and, for admins, the daily summary) on or off."""
    form = mail_preferences_form()
    if not form.validate_on_submit():
        return account_page(ChangePasswordForm(formdata=None), form), 400
    current_user.email_notices = form.email_notices.data
    if current_user.role is Role.ADMIN:
        current_user.daily_digest = form.daily_digest.data
    db.session.commit()
    flash("Your mail settings are saved.", "success")
    return redirect(url_for(".change_password"))


def mail_preferences_form() -> MailPreferencesForm:
    form = MailPreferencesForm(obj=current_user)
    if current_user.role is not Role.ADMIN:
        del form.daily_digest  # a summary of the company's connections is an admin's
    return form


def account_page(password_form: ChangePasswordForm, mail_form: MailPreferencesForm) -> str:
    return render_template("auth/change_password.html", form=password_form, mail_form=mail_form)
