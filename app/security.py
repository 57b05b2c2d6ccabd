"""Defences every request passes through: security headers, refusal of malformed input, login throttling.

One module so that a reviewer finds the whole perimeter in one place; the views stay unaware of it.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, abort, current_app, request
from flask_limiter.util import get_remote_address
from flask_login import current_user

from .extensions import limiter
from .tenancy import host_company

# No inline script or style anywhere (templates load app/static/ files): an injected <script> or
# style attribute does nothing. Bootstrap's CSS draws its icons from data: SVGs, hence img-src.
# No form-action: "Sign in with Google" posts to us and we redirect to Google's own host.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "frame-ancestors 'none'",
))
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"
MAX_HOST_LENGTH = 255

NUL_MESSAGE = ("Part of what was sent contains an invisible control character (a NUL byte) that cannot be "
               "saved. Please remove it and try again.")
REPEATED_MESSAGE = ("The same choice was sent more than once (for example one person picked twice). "
                    "Choose each one once and try again.")
THROTTLED_MESSAGE = ("Too many sign-in attempts. For your security, signing in is paused for a few minutes; "
                     "please wait and try again.")


def init_app(app: Flask) -> None:
    """Registered after CSRFProtect, so a request without a valid token is refused before anything else."""
    # The limiter counts in the Redis we already run, so every web process shares the counts.
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"])
    limiter.init_app(app)
    app.before_request(refuse_malformed_input)
    app.after_request(add_security_headers)


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.config.get("SECURITY_HSTS"):
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def refuse_malformed_input() -> None:
    """400 for input no form can use, before any view or database sees it.

    PostgreSQL refuses NUL in text (a 500 there, silently stored on SQLite), and a repeated id in a
    multi-select (`assignees=5&assignees=5`) would insert the same association row twice. Neither
    can come from our pages, so one check here covers every form, query string and path alike.
    """
    if "\x00" in request.path:
        abort(400, NUL_MESSAGE)
    if len(request.host) > MAX_HOST_LENGTH:  # no portal has such an address; sessions and tenancy keep 255
        abort(400, "This address is not one of ours.")
    sources = [request.args, request.form] if request.method in ("POST", "PUT", "PATCH") else [request.args]
    for values in sources:
        for key, items in values.lists():
            if "\x00" in key or any("\x00" in item for item in items):
                abort(400, NUL_MESSAGE)
            if len(items) != len(set(items)):
                abort(400, REPEATED_MESSAGE)


# --- Login throttling -------------------------------------------------------------------------------

def namespaced(key: str) -> str:
    """The limiter is one object for every app; keys carry the app's Redis namespace (separate test runs)."""
    return f"{current_app.config['REDIS_NAMESPACE']}:login:{key}"


def login_ip_key() -> str:
    return namespaced(f"ip:{get_remote_address()}")


def login_account_key() -> str:
    """The account named in the form, in the company it signs in to: the host's own company, or on the shared
    portal the company code given (if any). So guessing one company's passwords never locks out a person of
    another company with the same address. The email is normalised as the login query matches it."""
    email = request.form.get("email", "")[:254].strip().lower()
    company = host_company(request.host)
    tenant = company.slug if company else "shared:" + request.form.get("company", "")[:60].strip().lower()
    return namespaced(f"account:{tenant}:{email}")


def failed_login(response: Response) -> bool:
    """Only failed attempts count: a person who signs in and out all day is never throttled."""
    return response.status_code != 302


def account_limit() -> str:
    return current_app.config["LOGIN_LIMIT_PER_ACCOUNT"]


def ip_limit() -> str:
    return current_app.config["LOGIN_LIMIT_PER_IP"]


def reset_ip_key() -> str:
    return namespaced(f"reset:{get_remote_address()}")


def reset_limit() -> str:
    """Asking for password reset links: a person asks once or twice; a script asking for many is stopped."""
    return current_app.config["PASSWORD_RESET_LIMIT"]


def password_check_key() -> str:
    """Guessing the current password on the password page: counted per signed-in person."""
    return namespaced(f"password:{current_user.get_id()}")


def throttle_login(view: Callable) -> Callable:
    """Per account and per client address; a throttled attempt never reaches the password check."""
    view = limiter.limit(account_limit, key_func=login_account_key, methods=["POST"], deduct_when=failed_login)(view)
    return limiter.limit(ip_limit, key_func=login_ip_key, methods=["POST"], deduct_when=failed_login)(view)
