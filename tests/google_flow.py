"""Walk Google's sign-in pages (the emulator's) the way a person's browser would, with `requests`."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import requests

from app.google import REQUIRED_SCOPES

from .conftest import csrf_token


def _hidden_req(html: str) -> str:
    match = re.search(r'name="req" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def consent(authorize_url: str, email: str, tick=REQUIRED_SCOPES, action: str = "continue",
            client_name: str = "My Portal App") -> str:
    """Choose the account, tick the given boxes, press Continue/Cancel; returns the callback URL."""
    browser = requests.Session()
    chooser = browser.get(authorize_url)
    assert chooser.status_code == 200, chooser.text[:300]
    base = "{0.scheme}://{0.netloc}".format(urlsplit(authorize_url))
    page = browser.post(base + "/o/oauth2/v2/auth/choose", data={"req": _hidden_req(chooser.text), "email": email},
                        allow_redirects=False)
    if page.status_code in (302, 303):  # already consented: straight back
        return page.headers["Location"]
    assert client_name in page.text
    answer = browser.post(base + "/o/oauth2/v2/auth/consent",
                          data={"req": _hidden_req(page.text), "scope": list(tick), "action": action},
                          allow_redirects=False)
    assert answer.status_code in (302, 303), answer.text[:300]
    return answer.headers["Location"]


def path_of(url: str) -> str:
    """The path and query of a URL: the test client serves every host name itself."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def start_and_consent(client, email: str = "alex@example.com", kind: str = "two-way", tick=REQUIRED_SCOPES,
                      action: str = "continue", client_name: str = "My Portal App") -> str:
    """From the Integrations page through Google's pages; returns the broker callback URL Google sends back."""
    start = client.post(f"/integrations/{kind}/connect",
                        data={"csrf_token": csrf_token(client, "/integrations/")})
    assert start.status_code == 302, start.get_data(as_text=True)[:300]
    return consent(start.headers["Location"], email, tick, action, client_name)


def sign_in_with_google(client, email: str = "alex@example.com", kind: str = "two-way", tick=REQUIRED_SCOPES,
                        action: str = "continue", broker=None):
    """The whole sign-in: Google, the broker's callback (on `broker`, a client of the broker's own app when
    it runs as its own process), then the portal's handoff; returns the handoff's response."""
    callback = (broker or client).get(path_of(start_and_consent(client, email, kind, tick, action)))
    assert callback.status_code == 302, callback.get_data(as_text=True)[:300]
    return client.get(path_of(callback.headers["Location"]))


def google_user_service(google, app, email: str = "alex@example.com", client_id: str | None = None):
    """Google's Calendar API as the Google user themself (another device), through the real client library;
    `client_id` (registered in the emulator): as another app of theirs, whose grant leaves the portal's alone."""
    from google.oauth2.credentials import Credentials
    from googleapiclient.discovery import build

    token = google.issue_token(email, client_id or app.config["GOOGLE_CLIENT_ID"],
                               ["https://www.googleapis.com/auth/calendar"])
    return build("calendar", "v3", credentials=Credentials(token), static_discovery=True,
                 client_options={"api_endpoint": google.base_url + "/calendar/v3/"})


def google_user_calendar(google, app, email: str = "alex@example.com"):
    """The user's events, as they would change them in Google."""
    return google_user_service(google, app, email).events()
