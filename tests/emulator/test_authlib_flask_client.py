"""The app-side path: authlib's Flask client (metadata discovery, PKCE, nonce, id_token validation)."""
import urllib.parse

from authlib.integrations.flask_client import OAuth
from flask import Flask

from .conftest import ALEX, CLIENT_ID, CLIENT_SECRET, EVENTS, LIST_RO, REDIRECT_URI
from .test_oauth import consent_flow


def test_authlib_flask_client_full_flow(emu):
    app = Flask(__name__)
    app.secret_key = "test"
    oauth = OAuth(app)
    oauth.register("google", client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                   server_metadata_url=emu.base_url + "/.well-known/openid-configuration",
                   api_base_url=emu.api_endpoint,
                   authorize_params={"access_type": "offline", "prompt": "consent",
                                     "include_granted_scopes": "true"},
                   client_kwargs={"scope": f"openid email profile {EVENTS} {LIST_RO}",
                                  "code_challenge_method": "S256",
                                  "token_endpoint_auth_method": "client_secret_post"})
    result = {}

    @app.get("/login")
    def login():
        return oauth.google.authorize_redirect(REDIRECT_URI, login_hint=ALEX)

    @app.get("/auth/google/callback")
    def callback():
        token = oauth.google.authorize_access_token()
        result.update(token)
        result["events"] = oauth.google.get("calendars/primary/events", token=token).json()
        return "ok"

    c = app.test_client()
    loc = c.get("/login").headers["Location"]
    assert loc.startswith(emu.base_url + "/o/oauth2/v2/auth?")
    final, _ = consent_flow(emu, loc, tick=[EVENTS])
    q = urllib.parse.urlsplit(final).query
    assert c.get("/auth/google/callback?" + q).data == b"ok"
    assert result["userinfo"]["email"] == ALEX and result["refresh_token"]
    assert EVENTS in result["scope"].split() and LIST_RO not in result["scope"].split()
    assert result["events"]["kind"] == "calendar#events"
