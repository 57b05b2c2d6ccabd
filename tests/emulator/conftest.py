"""Fixtures for the emulator conformance suite: one emulator subprocess per session, reset per test.

Everything talks to the emulator through the real google-api-python-client,
google-auth and authlib clients; the admin API only seeds state.
"""
from __future__ import annotations

import http.server
import threading
import time

import pytest
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.http import BatchHttpRequest

CLIENT_ID = "test-client.apps.googleusercontent.com"
CLIENT_SECRET = "test-secret"
REDIRECT_URI = "http://127.0.0.1:5999/auth/google/callback"
AUTH = "https://www.googleapis.com/auth/"
CAL = AUTH + "calendar"
EVENTS = AUTH + "calendar.events"
LIST_RO = AUTH + "calendar.calendarlist.readonly"
APP_CREATED = AUTH + "calendar.app.created"
ALEX = "alex@example.com"
SAM = "sam@example.com"


@pytest.fixture(scope="session")
def emu(emulator):
    """The suite's one emulator (tests/conftest.py); every test here resets it first."""
    return emulator


@pytest.fixture(autouse=True)
def fresh(emu):
    emu.reset()
    emu.add_account(ALEX, "Alex Client")
    emu.add_account(SAM, "Sam Staff")
    emu.register_client(CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI])
    yield emu


@pytest.fixture
def make_creds(emu):
    def make(email=ALEX, scopes=(CAL,)):
        tok = emu.issue_tokens(email, CLIENT_ID, list(scopes))
        return Credentials(tok["access_token"], refresh_token=tok["refresh_token"], token_uri=emu.token_uri,
                           client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    return make


@pytest.fixture
def make_service(emu, make_creds):
    def make(email=ALEX, scopes=(CAL,), creds=None):
        creds = creds or make_creds(email, scopes)
        return build("calendar", "v3", credentials=creds, client_options={"api_endpoint": emu.api_endpoint},
                     static_discovery=True, cache_discovery=False)
    return make


@pytest.fixture
def svc(make_service):
    return make_service()


@pytest.fixture
def new_batch(emu):
    def make(callback=None):
        return BatchHttpRequest(callback=callback, batch_uri=emu.batch_uri)
    return make


class _Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        srv = self.server
        with srv.lock:
            srv.hits.append({"headers": {k: v for k, v in self.headers.items()}, "body": body, "path": self.path})
            status = srv.statuses.pop(0) if srv.statuses else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


@pytest.fixture
def receiver():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    srv.hits, srv.statuses, srv.lock = [], [], threading.Lock()

    def wait_for(n, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with srv.lock:
                if len(srv.hits) >= n:
                    return list(srv.hits)
            time.sleep(0.02)
        with srv.lock:
            return list(srv.hits)

    srv.wait_for = wait_for
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}/hook"
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()
