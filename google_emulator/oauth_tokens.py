"""Grants and tokens behind the OAuth endpoints: issue, validate, revoke, id_tokens and the signing key.

Plain functions over the Store (no request globals), shared by the token endpoint, the Calendar API's
auth check and the admin controls. Google revokes grant-wide: revoking any token of a grant revokes
the grant and every token issued under it.
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import sqlite3
import time
from collections.abc import Iterable
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey

from .discovery import AUTH
from .storage import Store


def signing_key(store: Store) -> RSAKey:
    """The RS256 key, generated at first start and kept in the emulator database."""
    pem = store.kv_get("signing_key")
    if not pem:
        key = RSAKey.generate_key(2048, private=True)
        store.kv_set("signing_key", key.as_pem(private=True).decode())
        pem = store.kv_get("signing_key")
    return RSAKey.import_key(pem)


def sub_for(email: str) -> str:
    """Google's stable numeric subject id for an account."""
    return str(int(hashlib.sha256(email.encode()).hexdigest(), 16))[:21]


def token_row(store: Store, token: str, kind: str) -> sqlite3.Row | None:
    """The token's row plus its grant's email and client_id, or None when either is revoked."""
    r = store.q1("SELECT t.*, g.email, g.client_id, g.revoked AS grant_revoked FROM tokens t "
                 "JOIN grants g ON g.id = t.grant_id WHERE t.token=? AND t.kind=?", (token, kind))
    if not r or r["revoked"] or r["grant_revoked"]:
        return None
    return r


def validate_access_token(store: Store, token: str) -> tuple[str, str, set[str]] | None:
    """(account email, client_id, scopes) for a live access token, else None."""
    r = token_row(store, token, "access")
    if not r or (r["expires_at"] and r["expires_at"] < time.time()):
        return None
    return r["email"], r["client_id"], set(json.loads(r["scopes"]))


def mint_access(c: sqlite3.Connection, grant_id: int, scopes: list[str], lifetime: int) -> dict[str, Any]:
    """Store a new access token for the grant (inside the caller's transaction); the token response."""
    at = "ya29.a0" + secrets.token_urlsafe(48)
    c.execute("INSERT INTO tokens(token, kind, grant_id, scopes, expires_at) VALUES (?,?,?,?,?)",
              (at, "access", grant_id, json.dumps(scopes), time.time() + lifetime))
    return {"access_token": at, "expires_in": lifetime, "scope": " ".join(scopes), "token_type": "Bearer"}


def issue_tokens(store: Store, email: str, client_id: str, scopes: Iterable[str], *, refresh: bool, lifetime: int,
                 issuer: str, nonce: str | None = None) -> dict[str, Any]:
    """Create/extend the user-client grant and mint tokens; returns the token response dict."""
    scopes = list(dict.fromkeys(scopes))
    with store.tx() as c:
        g = c.execute("SELECT * FROM grants WHERE email=? AND client_id=? AND revoked=0 ORDER BY id DESC",
                      (email, client_id)).fetchone()
        if g:
            gid = g["id"]
            total = list(dict.fromkeys(json.loads(g["scopes"]) + scopes))
            c.execute("UPDATE grants SET scopes=? WHERE id=?", (json.dumps(total), gid))
        else:
            gid = c.execute("INSERT INTO grants(email, client_id, scopes, created) VALUES (?,?,?,?)",
                            (email, client_id, json.dumps(scopes), time.time())).lastrowid
        out = mint_access(c, gid, scopes, lifetime)
        if refresh:
            rt = "1//0" + secrets.token_urlsafe(64)
            c.execute("INSERT INTO tokens(token, kind, grant_id, scopes, expires_at) VALUES (?,?,?,?,NULL)",
                      (rt, "refresh", gid, json.dumps(scopes)))
            out["refresh_token"] = rt
    if "openid" in scopes:
        out["id_token"] = make_id_token(store, issuer, email, client_id, scopes, nonce, out["access_token"])
    return out


def make_id_token(store: Store, issuer: str, email: str, client_id: str, scopes: list[str], nonce: str | None,
                  access_token: str) -> str:
    acct = store.q1("SELECT * FROM accounts WHERE email=?", (email,))
    now = int(time.time())
    digest = hashlib.sha256(access_token.encode()).digest()[:16]
    claims: dict[str, Any] = {"iss": issuer, "azp": client_id, "aud": client_id, "sub": sub_for(email),
                              "at_hash": base64.urlsafe_b64encode(digest).decode().rstrip("="), "iat": now,
                              "exp": now + 3600}
    if AUTH + "userinfo.email" in scopes:
        claims.update(email=email, email_verified=True)
    if AUTH + "userinfo.profile" in scopes:
        claims.update(profile_claims(acct["name"] if acct else email))
    if nonce:
        claims["nonce"] = nonce
    key = signing_key(store)
    return jwt.encode({"alg": "RS256", "kid": key.thumbprint(), "typ": "JWT"}, claims, key)


def profile_claims(name: str) -> dict[str, str]:
    """The profile part of an id_token and of userinfo."""
    parts = name.split(" ", 1)
    return {"name": name, "given_name": parts[0], "family_name": parts[1] if len(parts) > 1 else "",
            "picture": "https://lh3.googleusercontent.com/a/default-user=s96-c"}


def _revoke_grant(c: sqlite3.Connection, grant_id: int) -> None:
    c.execute("UPDATE grants SET revoked=1 WHERE id=?", (grant_id,))
    c.execute("UPDATE tokens SET revoked=1 WHERE grant_id=?", (grant_id,))


def revoke_grant_of(store: Store, token_value: str) -> bool:
    """Revoke the grant a token belongs to; False when the token is unknown or already revoked."""
    r = store.q1("SELECT grant_id, revoked FROM tokens WHERE token=?", (token_value,))
    if not r:
        return False
    g = store.q1("SELECT revoked FROM grants WHERE id=?", (r["grant_id"],))
    if r["revoked"] or (g and g["revoked"]):
        return False
    with store.tx() as c:
        _revoke_grant(c, r["grant_id"])
    return True


def revoke_user(store: Store, email: str) -> int:
    """Revoke every live grant of an account (the admin's "user removed access"); how many there were."""
    with store.tx() as c:
        ids = [r["id"] for r in c.execute("SELECT id FROM grants WHERE email=? AND revoked=0", (email.lower(),))]
        for gid in ids:
            _revoke_grant(c, gid)
    return len(ids)
