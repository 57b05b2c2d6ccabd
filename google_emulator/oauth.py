"""Google's OAuth 2.0 / OpenID Connect endpoints (account chooser, granular consent, token, revoke).

authlib is used for the pieces that are plain standards: PKCE S256 (authlib.oauth2.rfc7636),
HTTP Basic client credentials parsing (authlib.oauth2.rfc6749.util) and RS256 JWT/JWK
(joserfc, authlib's JOSE implementation). The endpoint logic itself is hand-written because
Google's behaviour is not stock RFC 6749: partial (granular) consent, `include_granted_scopes`,
refresh tokens only on first consent or prompt=consent, grant-wide revocation, and Google's
exact error descriptions ("Malformed auth code.", "Invalid code verifier.", ...).
"""
from __future__ import annotations

import hmac
import json
import secrets
import sqlite3
import time
import urllib.parse

from authlib.oauth2.rfc6749.util import extract_basic_authorization
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from flask import Blueprint, Response, jsonify, redirect, request

from .context import current_emulator as emu
from .discovery import AUTH, SIGN_IN, method_scopes, normalize_scope, scope_descriptions
from .oauth_tokens import (
    issue_tokens,
    make_id_token,
    mint_access,
    profile_claims,
    revoke_grant_of,
    signing_key,
    sub_for,
    token_row,
    validate_access_token,
)
from .ui_base import page

bp = Blueprint("oauth", __name__)
CODE_TTL = 600


def known_scopes() -> set[str]:
    s = set(SIGN_IN)
    for v in method_scopes().values():
        s |= v
    return s


def _json(data: dict, status: int = 200) -> Response:
    r = jsonify(data)
    r.status_code = status
    r.headers["Cache-Control"] = "no-cache, no-store, max-age=0, must-revalidate"
    r.headers["Pragma"] = "no-cache"
    return r


def _oauth_error(error: str, desc: str, status: int = 400) -> Response:
    return _json({"error": error, "error_description": desc}, status)


# ---------------------------------------------------------------------------- discovery & keys
@bp.get("/.well-known/openid-configuration")
def openid_configuration() -> Response:
    b = emu().base_url
    return _json({
        "issuer": b,
        "authorization_endpoint": b + "/o/oauth2/v2/auth",
        "device_authorization_endpoint": b + "/device/code",
        "token_endpoint": b + "/token",
        "userinfo_endpoint": b + "/v1/userinfo",
        "revocation_endpoint": b + "/revoke",
        "jwks_uri": b + "/oauth2/v3/certs",
        "response_types_supported": ["code", "token", "id_token", "code token", "code id_token",
                                     "token id_token", "code token id_token", "none"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "claims_supported": ["aud", "email", "email_verified", "exp", "family_name", "given_name", "iat", "iss",
                             "name", "picture", "sub"],
        "code_challenge_methods_supported": ["plain", "S256"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
    })


@bp.get("/oauth2/v3/certs")
def certs() -> Response:
    key = signing_key(emu().store)
    jwk = dict(key.as_dict(private=False), kid=key.thumbprint(), use="sig", alg="RS256")
    return _json({"keys": [jwk]})


# ---------------------------------------------------------------------------- authorization
ERROR_PAGE = """<h1 id="error-title">Access blocked: This app’s request is invalid</h1>
<p id="error-code">Error {{ status }}: {{ error }}</p><p id="error-description">{{ description }}</p>"""

CHOOSER = """<h1 id="chooser-title">Choose an account</h1>
<p>to continue to <b id="client-name">{{ client_name }}</b></p>
<form method="post" action="{{ url }}" id="chooser-form">
<input type="hidden" name="req" value="{{ req }}">
{% for a in accounts %}
<button type="submit" class="account{% if a.email == hint %} hinted{% endif %}" name="email" value="{{ a.email }}"
 data-email="{{ a.email }}" id="account-{{ loop.index }}">
<b>{{ a.name }}</b><br><span>{{ a.email }}</span></button>
{% endfor %}
</form>
<form method="post" action="{{ url }}" id="other-account-form" class="card">
<input type="hidden" name="req" value="{{ req }}">
<h3>Use another account</h3>
<label>Email <input type="email" name="new_email" id="new-email" value="{{ hint or '' }}" required></label>
<label>Name <input type="text" name="new_name" id="new-name"></label>
<button type="submit" id="use-another-account" name="action" value="other">Next</button>
</form>"""

CONSENT = """<h1 id="consent-title">{{ client_name }} wants access to your Google Account</h1>
<p id="consent-account">{{ name }} &lt;{{ email }}&gt;</p>
<form method="post" action="{{ url }}" id="consent-form">
<input type="hidden" name="req" value="{{ req }}">
{% if sign_in %}<p id="sign-in-note">{{ client_name }} will be able to see your name, email address and
profile picture (sign-in).</p>{% endif %}
{% if scopes %}<p>Select what <b>{{ client_name }}</b> can access</p>
<ul class="scopes">
{% for s in scopes %}<li><label><input type="checkbox" name="scope" value="{{ s.scope }}"
 id="scope-{{ loop.index }}"> <span class="scope-label">{{ s.label }}</span></label></li>
{% endfor %}</ul>{% endif %}
<button type="submit" name="action" value="cancel" id="cancel">Cancel</button>
<button type="submit" name="action" value="continue" id="continue" class="primary">Continue</button>
</form>"""


def _error_page(status: int, error: str, description: str) -> Response:
    return page(ERROR_PAGE, "Error", status=status, error=error, description=description)


def _redirect_with(uri: str, params: dict[str, str]) -> Response:
    sep = "&" if urllib.parse.urlparse(uri).query else "?"
    return redirect(uri + sep + urllib.parse.urlencode({k: v for k, v in params.items() if v is not None}), 302)


def _load_req(req_id: str | None) -> dict | None:
    r = emu().store.q1("SELECT data FROM auth_requests WHERE id=?", (req_id or "",))
    return json.loads(r["data"]) if r else None


def _save_req(req_id: str, data: dict) -> None:
    with emu().store.tx() as c:
        c.execute("INSERT OR REPLACE INTO auth_requests(id, data, created) VALUES (?,?,?)",
                  (req_id, json.dumps(data), time.time()))


@bp.get("/o/oauth2/v2/auth")
@bp.get("/o/oauth2/auth")
def authorize() -> Response:
    e = emu()
    a = request.args
    client = e.store.q1("SELECT * FROM clients WHERE client_id=?", (a.get("client_id", ""),))
    if not client:
        return _error_page(401, "invalid_client", "The OAuth client was not found.")
    redirect_uri = a.get("redirect_uri", "")
    if redirect_uri not in json.loads(client["redirect_uris"]):
        return _error_page(400, "redirect_uri_mismatch",
                           f"You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 "
                           f"policy. If you're the app developer, register the redirect URI in the Google Cloud "
                           f"Console. Request details: redirect_uri={redirect_uri}")
    state = a.get("state")
    if a.get("response_type") != "code":
        return _redirect_with(redirect_uri, {"error": "unsupported_response_type", "state": state})
    raw_scopes = a.get("scope", "").split()
    if not raw_scopes:
        return _error_page(400, "invalid_request", "Missing required parameter: scope")
    unknown = [s for s in raw_scopes if normalize_scope(s) not in known_scopes()]
    if unknown:
        return _error_page(400, "invalid_scope",
                           "Some requested scopes were invalid. {{invalid=[{}]}}".format(", ".join(unknown)))
    method = a.get("code_challenge_method") or ("plain" if a.get("code_challenge") else None)
    if method not in (None, "S256", "plain"):
        return _error_page(400, "invalid_request", "Invalid code_challenge_method value.")
    data = {"client_id": client["client_id"], "redirect_uri": redirect_uri, "state": state,
            "scopes": list(dict.fromkeys(normalize_scope(s) for s in raw_scopes)),
            "code_challenge": a.get("code_challenge"), "code_challenge_method": method,
            "nonce": a.get("nonce"), "access_type": a.get("access_type", "online"),
            "prompt": a.get("prompt", ""), "include_granted_scopes": a.get("include_granted_scopes") == "true",
            "login_hint": a.get("login_hint"), "email": None}
    req_id = secrets.token_urlsafe(16)
    _save_req(req_id, data)
    if "none" in data["prompt"].split():
        email = (data["login_hint"] or "").lower()
        if email and _covered(email, data) and e.store.q1("SELECT 1 FROM accounts WHERE email=?", (email,)):
            data["email"] = email
            return _approve(req_id, data, [s for s in data["scopes"]])
        return _redirect_with(redirect_uri, {"error": "interaction_required", "state": state})
    accounts = [dict(r) for r in e.store.q("SELECT email, name FROM accounts ORDER BY created, email")]
    return page(CHOOSER, "Sign in - Google Accounts", accounts=accounts, req=req_id, client_name=client["name"],
                hint=(data["login_hint"] or "").lower(), url="/o/oauth2/v2/auth/choose")


def _active_grant_scopes(email: str, client_id: str) -> set[str]:
    g = emu().store.q1("SELECT scopes FROM grants WHERE email=? AND client_id=? AND revoked=0 ORDER BY id DESC",
                       (email, client_id))
    return set(json.loads(g["scopes"])) if g else set()


def _covered(email: str, data: dict) -> bool:
    return set(data["scopes"]) <= _active_grant_scopes(email, data["client_id"])


@bp.post("/o/oauth2/v2/auth/choose")
def choose() -> Response:
    e = emu()
    req_id = request.form.get("req")
    data = _load_req(req_id)
    if not data:
        return _error_page(400, "invalid_request", "The authorization request expired. Start again.")
    email = (request.form.get("email") or "").strip().lower()
    if not email and request.form.get("new_email"):
        email = request.form["new_email"].strip().lower()
        if "@" not in email:
            return _error_page(400, "invalid_request", "Enter a valid email address.")
        e.service.ensure_account(email, request.form.get("new_name") or None)
    if not email or not e.store.q1("SELECT 1 FROM accounts WHERE email=?", (email,)):
        return _error_page(400, "invalid_request", "Unknown account.")
    data["email"] = email
    _save_req(req_id, data)
    if "consent" not in data["prompt"].split() and _covered(email, data):
        return _approve(req_id, data, data["scopes"])
    client = e.store.q1("SELECT * FROM clients WHERE client_id=?", (data["client_id"],))
    acct = e.store.q1("SELECT * FROM accounts WHERE email=?", (email,))
    desc = scope_descriptions()
    scopes = [{"scope": s, "label": desc.get(s, s)} for s in data["scopes"] if s not in SIGN_IN]
    sign_in = any(s in SIGN_IN for s in data["scopes"])
    return page(CONSENT, f"Sign in - {client['name']}", client_name=client["name"], email=email,
                name=acct["name"], scopes=scopes, sign_in=sign_in, req=req_id, url="/o/oauth2/v2/auth/consent")


@bp.post("/o/oauth2/v2/auth/consent")
def consent() -> Response:
    req_id = request.form.get("req")
    data = _load_req(req_id)
    if not data or not data.get("email"):
        return _error_page(400, "invalid_request", "The authorization request expired. Start again.")
    if request.form.get("action") != "continue":
        with emu().store.tx() as c:
            c.execute("DELETE FROM auth_requests WHERE id=?", (req_id,))
        return _redirect_with(data["redirect_uri"], {"error": "access_denied", "state": data["state"]})
    ticked = set(request.form.getlist("scope"))
    granted = [s for s in data["scopes"] if s in SIGN_IN or s in ticked]
    return _approve(req_id, data, granted)


def _approve(req_id: str, data: dict, granted: list[str]) -> Response:
    e = emu()
    email, client_id = data["email"], data["client_id"]
    previous = _active_grant_scopes(email, client_id)
    first = not e.store.q1("SELECT 1 FROM grants WHERE email=? AND client_id=? AND revoked=0", (email, client_id))
    if data["include_granted_scopes"]:
        granted = list(dict.fromkeys(list(granted) + sorted(previous)))
    code = "4/0A" + secrets.token_urlsafe(40)
    code_data = {"client_id": client_id, "redirect_uri": data["redirect_uri"], "email": email,
                 "scopes": granted, "code_challenge": data["code_challenge"],
                 "code_challenge_method": data["code_challenge_method"], "nonce": data["nonce"],
                 "refresh": data["access_type"] == "offline" and (first or "consent" in data["prompt"].split())}
    with e.store.tx() as c:
        c.execute("INSERT INTO auth_codes(code, data, expires_at) VALUES (?,?,?)",
                  (code, json.dumps(code_data), time.time() + CODE_TTL))
        c.execute("DELETE FROM auth_requests WHERE id=?", (req_id,))
    return _redirect_with(data["redirect_uri"], {"state": data["state"], "code": code, "scope": " ".join(granted),
                                                 "authuser": "0", "prompt": "consent"})


# ---------------------------------------------------------------------------- token endpoint
def _client_auth() -> tuple[sqlite3.Row | None, Response | None]:
    f = request.form
    cid, secret = extract_basic_authorization(request.headers)
    if not cid:
        cid, secret = f.get("client_id"), f.get("client_secret")
    client = emu().store.q1("SELECT * FROM clients WHERE client_id=?", (cid or "",))
    if not client:
        return None, _oauth_error("invalid_client", "The OAuth client was not found.", 401)
    if not hmac.compare_digest(client["client_secret"], secret or ""):
        return None, _oauth_error("invalid_client", "Unauthorized", 401)
    return client, None


@bp.post("/token")
@bp.post("/o/oauth2/token")
def token() -> Response:
    e = emu()
    e.controls.count("http:POST /token")
    client, err = _client_auth()
    if err:
        return err
    f = request.form
    gt = f.get("grant_type")
    lifetime = e.controls.token_lifetime
    if gt == "authorization_code":
        code = f.get("code", "")
        with e.store.tx() as c:
            row = c.execute("SELECT * FROM auth_codes WHERE code=?", (code,)).fetchone()
            if row:
                c.execute("UPDATE auth_codes SET used=1 WHERE code=?", (code,))
        if not row or row["used"] or row["expires_at"] < time.time():
            return _oauth_error("invalid_grant", "Malformed auth code.")
        d = json.loads(row["data"])
        if d["client_id"] != client["client_id"]:
            return _oauth_error("invalid_grant", "Malformed auth code.")
        if f.get("redirect_uri") != d["redirect_uri"]:
            return _oauth_error("redirect_uri_mismatch", "Bad Request")
        if d.get("code_challenge"):
            verifier = f.get("code_verifier")
            if not verifier:
                return _oauth_error("invalid_grant", "Missing code verifier.")
            expected = create_s256_code_challenge(verifier) if d["code_challenge_method"] == "S256" else verifier
            if not hmac.compare_digest(expected, d["code_challenge"]):
                return _oauth_error("invalid_grant", "Invalid code verifier.")
        acct_ok = e.store.q1("SELECT 1 FROM accounts WHERE email=?", (d["email"],))
        if not acct_ok:
            return _oauth_error("invalid_grant", "Account has been deleted")
        out = issue_tokens(e.store, d["email"], client["client_id"], d["scopes"], refresh=d["refresh"],
                           lifetime=lifetime, issuer=e.base_url, nonce=d.get("nonce"))
        return _json(out)
    if gt == "refresh_token":
        rt = f.get("refresh_token", "")
        r = token_row(e.store, rt, "refresh")
        if not r:
            return _oauth_error("invalid_grant", "Token has been expired or revoked.")
        if r["client_id"] != client["client_id"]:
            return _oauth_error("unauthorized_client", "Unauthorized")
        scopes = json.loads(r["scopes"])
        if f.get("scope"):
            asked = [normalize_scope(s) for s in f["scope"].split()]
            if not set(asked) <= set(scopes):
                return _oauth_error("invalid_scope", "Bad Request")
            scopes = [s for s in scopes if s in asked]
        with e.store.tx() as c:
            out = mint_access(c, r["grant_id"], scopes, lifetime)
        if "openid" in scopes:
            out["id_token"] = make_id_token(e.store, e.base_url, r["email"], client["client_id"], scopes, None,
                                            out["access_token"])
        return _json(out)
    if not gt:
        return _oauth_error("invalid_request", "Missing required parameter: grant_type")
    return _oauth_error("unsupported_grant_type", "Invalid grant_type: " + gt)


@bp.route("/revoke", methods=["POST", "GET"])
@bp.route("/o/oauth2/revoke", methods=["POST", "GET"])
def revoke() -> Response:
    e = emu()
    e.controls.count("http:POST /revoke")
    tok = request.form.get("token") or request.args.get("token")
    if not tok or not revoke_grant_of(e.store, tok):
        return _oauth_error("invalid_token", "Token expired or revoked")
    return _json({})


@bp.get("/v1/userinfo")
@bp.get("/oauth2/v3/userinfo")
def userinfo() -> Response:
    e = emu()
    auth = request.headers.get("Authorization", "")
    tok = auth[7:].strip() if auth.lower().startswith("bearer ") else request.args.get("access_token", "")
    v = validate_access_token(e.store, tok) if tok else None
    if not v:
        r = _oauth_error("invalid_request", "Invalid Credentials", 401)
        r.headers["WWW-Authenticate"] = 'Bearer realm="https://accounts.google.com/", error="invalid_token"'
        return r
    email, _client, scopes = v
    acct = e.store.q1("SELECT * FROM accounts WHERE email=?", (email,))
    out = {"sub": sub_for(email)}
    if AUTH + "userinfo.profile" in scopes or "openid" in scopes:
        out.update(profile_claims(acct["name"] if acct else email))
    if AUTH + "userinfo.email" in scopes:
        out.update(email=email, email_verified=True)
    return _json(out)
