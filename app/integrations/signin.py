"""Google sign-in across domains: what a tenant's portal and the broker hand each other.

A portal (on its company's own domain) starts the sign-in; the broker (on its own host: the ONE redirect
URI Google knows) receives Google's answer; the user ends up back on the portal they started from.
Neither side can read the other's session cookie, so what must travel rides in two sealed messages:

- the OAuth `state`, which Google carries to the broker. It names company, user, kind, a nonce and the
  PKCE verifier, Fernet-encrypted so that Google (and whoever reads the URL) learns no tenant and no
  verifier; it expires after STATE_MAX_AGE and the broker accepts each nonce once (Redis SET NX).
- the handoff ticket, which the broker gives the browser for its own portal: signed (itsdangerous, the
  SECRET_KEY) and expiring after HANDOFF_MAX_AGE. What Google granted waits meanwhile in Redis, encrypted,
  under the nonce; the portal claims it once, and only in the session that started the sign-in (same
  user, same company, a nonce this session holds). So a grant is never attached to a portal account whose
  own browser did not start it, which is what a state bound to the session guarded on a single host.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from authlib.common.security import generate_token
from flask import Response, current_app, redirect, session
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..crypto import decrypt, encrypt
from ..google import FREEBUSY_SCOPE
from ..google.company_client import sign_in_client
from ..google.oauth import SIGN_IN_SCOPES
from ..models import CalendarConnection, Company, ConnectionKind, ConnectionStatus, User
from ..queues import get_redis, redis_key
from ..sync.connections import connection_of
from ..tenancy import portal_base, serves

STATE_MAX_AGE = 600  # seconds from "Sign in with Google" to Google's answer reaching the broker
HANDOFF_MAX_AGE = 120  # seconds from the broker to the portal: one redirect
HANDOFF_PATH = "/integrations/google/handoff"  # the portal's route (integrations.google_handoff)
NONCES_KEY = "google_sign_in_nonces"  # the tenant session's list of sign-ins it started
NONCES_KEPT = 5  # sign-ins started in other tabs stay valid; older ones lapse
START_AGAIN = "Please start again from the Integrations page."
UNAVAILABLE = "Google sign-in cannot be completed right now. Please try again in a minute."  # Redis is down


class SignInRefused(Exception):
    """A state or handoff that is forged, expired, replayed or not this session's; the text is for people."""


CONNECT, BUSY = "connect", "busy"  # what a sign-in is for: the connection itself, or the free/busy permission


@dataclass(frozen=True)
class SignIn:
    company_id: int
    user_id: int
    kind: ConnectionKind
    nonce: str
    code_verifier: str
    purpose: str = CONNECT


def new_sign_in(user: User, kind: ConnectionKind, purpose: str = CONNECT) -> SignIn:
    return SignIn(user.company_id, user.id, kind, secrets.token_urlsafe(24), generate_token(48), purpose)


def remember_nonce(started: list[str], sign_in: SignIn) -> list[str]:
    """The session's new list of started sign-ins (the caller stores it in the session)."""
    return [*started, sign_in.nonce][-NONCES_KEPT:]


def authorization_url(sign_in: SignIn, company: Company, existing: CalendarConnection | None) -> str:
    """Google's consent screen (the company's OAuth client) with PKCE (S256), our nonce as OpenID's, and
    the sealed state."""
    params = {"access_type": "offline", "include_granted_scopes": "true"}
    if sign_in.purpose == BUSY:  # incremental: only the new permission is asked; Google's answer covers all
        params["scope"] = f"{SIGN_IN_SCOPES} {FREEBUSY_SCOPE}"
    if existing is None or not existing.refresh_token_enc or existing.status is ConnectionStatus.RECONNECT:
        params["prompt"] = "consent"  # first connect or a dead grant: make sure Google issues a refresh token
    if existing is not None and existing.google_email:
        params["login_hint"] = existing.google_email
    return sign_in_client(company).create_authorization_url(
        current_app.config["GOOGLE_REDIRECT_URI"], state=seal_state(sign_in), nonce=sign_in.nonce,
        code_verifier=sign_in.code_verifier, **params)["url"]


def to_google(kind: ConnectionKind, purpose: str) -> Response:
    """Google's consent screen for the current user (through the broker); this session remembers the sign-in."""
    sign_in = new_sign_in(current_user, kind, purpose)
    session[NONCES_KEY] = remember_nonce(session.get(NONCES_KEY, []), sign_in)
    existing = connection_of(current_user, kind)
    response = redirect(authorization_url(sign_in, current_user.company, existing))
    response.headers["Referrer-Policy"] = "no-referrer"  # else the browser tells Google the tenant's domain
    return response


def seal_state(sign_in: SignIn) -> str:
    return encrypt(json.dumps({"c": sign_in.company_id, "u": sign_in.user_id, "k": sign_in.kind.value,
                               "n": sign_in.nonce, "v": sign_in.code_verifier, "p": sign_in.purpose}))


def open_state(state: str) -> SignIn:
    """The sign-in a state names; refused when forged or expired (not yet when replayed: see use_once)."""
    try:
        data = json.loads(decrypt(state, max_age=STATE_MAX_AGE) or "null")
        return SignIn(int(data["c"]), int(data["u"]), ConnectionKind(data["k"]), str(data["n"]), str(data["v"]),
                      _purpose(data.get("p", CONNECT)))
    except (TypeError, KeyError, ValueError) as exc:
        raise SignInRefused(f"This sign-in link is invalid or has expired. {START_AGAIN}") from exc


def _purpose(value: object) -> str:
    if value not in (CONNECT, BUSY):
        raise ValueError(value)
    return str(value)


def use_once(sign_in: SignIn) -> None:
    """Google's answer for a state is accepted once: a replayed callback URL is refused."""
    if not get_redis().set(redis_key("google-sign-in", "used", sign_in.nonce), 1, nx=True, ex=STATE_MAX_AGE):
        raise SignInRefused(f"This sign-in has already been completed. {START_AGAIN}")


def park_outcome(sign_in: SignIn, outcome: dict) -> None:
    """Keep what Google answered (tokens included, encrypted) until the portal claims it."""
    get_redis().set(redis_key("google-sign-in", "outcome", sign_in.nonce), encrypt(json.dumps(outcome)),
                    ex=HANDOFF_MAX_AGE)


def _tickets() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="google-sign-in-handoff")


def handoff_url(company: Company, sign_in: SignIn) -> str:
    """Back to the company's own portal, never anywhere else, with the one-time ticket."""
    ticket = _tickets().dumps({"c": sign_in.company_id, "u": sign_in.user_id, "k": sign_in.kind.value,
                               "n": sign_in.nonce, "p": sign_in.purpose})
    return portal_base(company) + HANDOFF_PATH.lstrip("/") + "?" + urlencode({"ticket": ticket})


def claim_handoff(ticket: str, user: User, started: list[str], host: str) -> tuple[ConnectionKind, str, dict]:
    """(kind, purpose, outcome) of a sign-in this user started in this session, claimed on its company's portal host;
    refused otherwise.

    Only the right session consumes the outcome, so a ticket tried in another user's browser first does
    not spoil it for its owner; the claim itself is one atomic GETDEL, so it succeeds once.
    """
    try:
        data = _tickets().loads(ticket, max_age=HANDOFF_MAX_AGE)
    except BadSignature as exc:
        raise SignInRefused(f"This sign-in link is invalid or has expired. {START_AGAIN}") from exc
    if data.get("u") != user.id or data.get("c") != user.company_id:
        raise SignInRefused(f"This sign-in was started by someone else. {START_AGAIN}")
    if data.get("n") not in started:
        raise SignInRefused(f"This sign-in was not started in this browser. {START_AGAIN}")
    if not serves(host, data["c"]):
        raise SignInRefused(f"This sign-in belongs to another portal address. {START_AGAIN}")
    sealed = get_redis().getdel(redis_key("google-sign-in", "outcome", data["n"]))
    outcome = decrypt(sealed.decode()) if sealed else None
    if outcome is None:
        raise SignInRefused(f"This sign-in has already been completed or has expired. {START_AGAIN}")
    return ConnectionKind(data["k"]), data.get("p", CONNECT), json.loads(outcome)
