"""OAuth dance with authlib's client + google-auth Credentials: granular consent, refresh, revoke, PKCE."""
import re
import urllib.parse

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from google.auth.exceptions import RefreshError
from google.auth.transport.requests import Request
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from joserfc import jwt
from joserfc.jwk import KeySet

from .conftest import ALEX, APP_CREATED, AUTH, CLIENT_ID, CLIENT_SECRET, EVENTS, LIST_RO, REDIRECT_URI

SCOPE = f"openid email profile {EVENTS} {LIST_RO} {APP_CREATED}"


def start(emu, scope=SCOPE, auth_method="client_secret_post", **params):
    sess = OAuth2Session(CLIENT_ID, CLIENT_SECRET, scope=scope, redirect_uri=REDIRECT_URI,
                         code_challenge_method="S256", token_endpoint_auth_method=auth_method)
    verifier = generate_token(48)
    params.setdefault("access_type", "offline")
    params.setdefault("prompt", "consent")
    url, state = sess.create_authorization_url(emu.base_url + "/o/oauth2/v2/auth", code_verifier=verifier,
                                               nonce="n-0S6_WzA2Mj", **params)
    return sess, verifier, url, state


def form_action(html, form_id):
    m = re.search(rf'<form[^>]*action="([^"]+)"[^>]*id="{form_id}"', html) or \
        re.search(rf'<form[^>]*id="{form_id}"[^>]*action="([^"]+)"', html)
    return m.group(1)


def consent_flow(emu, url, email=ALEX, tick=(), action="continue"):
    """Drive the chooser and consent pages like a browser would; returns the final redirect Location."""
    http = requests.Session()
    r = http.get(url)
    assert r.status_code == 200, r.text
    req = re.search(r'name="req" value="([^"]+)"', r.text).group(1)
    assert f'data-email="{email}"' in r.text
    r = http.post(emu.base_url + form_action(r.text, "chooser-form"), data={"req": req, "email": email},
                  allow_redirects=False)
    if r.status_code == 302:
        return r.headers["Location"], None
    page = r.text
    boxes = re.findall(r'<input type="checkbox" name="scope" value="([^"]+)"[^>]*>', page)
    r = http.post(emu.base_url + form_action(page, "consent-form"),
                  data={"req": req, "scope": list(tick), "action": action}, allow_redirects=False)
    assert r.status_code == 302
    return r.headers["Location"], (page, boxes)


def qs(location):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def test_partial_consent_refresh_and_id_token(emu):
    sess, verifier, url, state = start(emu)
    loc, (page, boxes) = consent_flow(emu, url, tick=[EVENTS])
    assert "My Portal App" in page and "View and edit events on all your calendars" in page
    assert boxes == [EVENTS, LIST_RO, APP_CREATED]
    assert "checked" not in re.search(r'<ul class="scopes">.*?</ul>', page, re.S).group(0)
    q = qs(loc)
    assert loc.startswith(REDIRECT_URI) and q["state"] == state and q["prompt"] == "consent" and q["authuser"] == "0"
    granted = {"openid", AUTH + "userinfo.email", AUTH + "userinfo.profile", EVENTS}
    assert set(q["scope"].split()) == granted
    tok = sess.fetch_token(emu.token_uri, authorization_response=loc, code_verifier=verifier)
    assert set(tok["scope"].split()) == granted and tok["expires_in"] == 3599 and tok["token_type"] == "Bearer"
    assert tok["refresh_token"] and tok["access_token"].startswith("ya29.")
    jwks = KeySet.import_key_set(requests.get(emu.base_url + "/oauth2/v3/certs").json())
    claims = jwt.decode(tok["id_token"], jwks).claims
    assert claims["iss"] == emu.base_url and claims["aud"] == CLIENT_ID and claims["nonce"] == "n-0S6_WzA2Mj"
    assert claims["email"] == ALEX and claims["email_verified"] is True
    meta = requests.get(emu.base_url + "/.well-known/openid-configuration").json()
    assert meta["issuer"] == emu.base_url and "S256" in meta["code_challenge_methods_supported"]
    info = sess.get(meta["userinfo_endpoint"]).json()
    assert info["email"] == ALEX and info["name"] == "Alex Client"

    creds = Credentials(None, refresh_token=tok["refresh_token"], token_uri=emu.token_uri, client_id=CLIENT_ID,
                        client_secret=CLIENT_SECRET)
    svc = build("calendar", "v3", credentials=creds, client_options={"api_endpoint": emu.api_endpoint},
                static_discovery=True, cache_discovery=False)
    assert svc.events().list(calendarId="primary").execute()["items"] == []  # refreshes first
    assert creds.token and creds.token != tok["access_token"]
    with pytest.raises(HttpError) as ei:  # calendarlist scope was not ticked
        svc.calendarList().list().execute()
    assert ei.value.resp.status == 403


def test_cancel_redirects_access_denied(emu):
    sess, verifier, url, state = start(emu)
    loc, _ = consent_flow(emu, url, action="cancel")
    assert qs(loc) == {"error": "access_denied", "state": state}


def test_redirect_uri_mismatch_is_an_error_page(emu):
    sess = OAuth2Session(CLIENT_ID, CLIENT_SECRET, scope=SCOPE, redirect_uri="http://127.0.0.1:1/evil")
    url, _ = sess.create_authorization_url(emu.base_url + "/o/oauth2/v2/auth")
    r = requests.get(url, allow_redirects=False)
    assert r.status_code == 400 and "redirect_uri_mismatch" in r.text and "Location" not in r.headers


def test_reused_code_and_wrong_verifier(emu):
    sess, verifier, url, state = start(emu, auth_method="client_secret_basic")
    loc, _ = consent_flow(emu, url, tick=[EVENTS])
    with pytest.raises(OAuthError) as ei:
        sess.fetch_token(emu.token_uri, authorization_response=loc, code_verifier="x" * 48)
    assert ei.value.error == "invalid_grant" and ei.value.description == "Invalid code verifier."
    sess2, verifier2, url2, state2 = start(emu)
    loc2, _ = consent_flow(emu, url2, tick=[EVENTS])
    assert sess2.fetch_token(emu.token_uri, authorization_response=loc2, code_verifier=verifier2)["access_token"]
    with pytest.raises(OAuthError) as ei:
        sess2.fetch_token(emu.token_uri, authorization_response=loc2, code_verifier=verifier2)
    assert ei.value.error == "invalid_grant" and ei.value.description == "Malformed auth code."


def test_refresh_token_only_on_first_consent_or_prompt_consent(emu):
    sess, verifier, url, _ = start(emu, scope=f"openid email {EVENTS}")
    loc, _ = consent_flow(emu, url, tick=[EVENTS])
    assert "refresh_token" in sess.fetch_token(emu.token_uri, authorization_response=loc, code_verifier=verifier)
    sess, verifier, url, _ = start(emu, scope=f"openid email {EVENTS}", prompt="select_account")
    loc, consent = consent_flow(emu, url)
    assert consent is None  # already granted: no consent screen
    tok = sess.fetch_token(emu.token_uri, authorization_response=loc, code_verifier=verifier)
    assert "refresh_token" not in tok and EVENTS in tok["scope"].split()


def test_include_granted_scopes(emu):
    sess, verifier, url, _ = start(emu, scope=f"openid {EVENTS}")
    loc, _ = consent_flow(emu, url, tick=[EVENTS])
    sess.fetch_token(emu.token_uri, authorization_response=loc, code_verifier=verifier)
    sess, verifier, url, _ = start(emu, scope=f"openid {LIST_RO}", include_granted_scopes="true")
    loc, _ = consent_flow(emu, url, tick=[LIST_RO])
    tok = sess.fetch_token(emu.token_uri, authorization_response=loc, code_verifier=verifier)
    assert {EVENTS, LIST_RO} <= set(tok["scope"].split())


def test_revoke_kills_grant_refresh_error(emu):
    sess, verifier, url, _ = start(emu)
    loc, _ = consent_flow(emu, url, tick=[EVENTS])
    tok = sess.fetch_token(emu.token_uri, authorization_response=loc, code_verifier=verifier)
    creds = Credentials(tok["access_token"], refresh_token=tok["refresh_token"], token_uri=emu.token_uri,
                        client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    svc = build("calendar", "v3", credentials=creds, client_options={"api_endpoint": emu.api_endpoint},
                static_discovery=True, cache_discovery=False)
    svc.events().list(calendarId="primary").execute()
    r = sess.revoke_token(emu.base_url + "/revoke", token=tok["access_token"])  # access token kills refresh too
    assert r.status_code == 200
    with pytest.raises(RefreshError) as ei:
        svc.events().list(calendarId="primary").execute()  # 401 -> refresh -> invalid_grant
    assert "invalid_grant" in str(ei.value)
    assert sess.revoke_token(emu.base_url + "/revoke", token=tok["refresh_token"]).status_code == 400


def test_admin_revoke_user_tokens(emu, make_creds):
    creds = make_creds()
    creds.refresh(Request())
    emu.revoke_user_tokens(ALEX)
    with pytest.raises(RefreshError):
        creds.refresh(Request())


def test_token_lifetime_setting(emu, make_creds):
    emu.set_token_lifetime(100)
    creds = make_creds()
    creds.refresh(Request())
    import datetime as dt
    left = (creds.expiry - dt.datetime.utcnow()).total_seconds()
    assert 90 < left <= 100
