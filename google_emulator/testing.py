"""Run the emulator as a subprocess and drive its admin API (for tests and bench scripts).

    emu = EmulatorServer.start()          # free port, --admin, waits for /_emulator/health
    emu.reset(); emu.add_account("alex@example.com", "Alex Client")
    ...
    emu.stop()

Designed for a session-scoped pytest fixture: start once, `reset()` between tests.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time

import requests

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmulatorServer:
    def __init__(self, proc, base_url, db_path, log_path, tmpdir=None):
        self.proc = proc
        self.base_url = base_url
        self.db_path = db_path
        self.log_path = log_path
        self._tmpdir = tmpdir
        self.http = requests.Session()

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def start(cls, db_path=None, port=None, latency_ms=0, seed_demo=False, env=None,
              timeout=30.0) -> EmulatorServer:
        tmpdir = None
        if db_path is None:
            tmpdir = tempfile.TemporaryDirectory(prefix="gemu-")
            db_path = os.path.join(tmpdir.name, "emu.sqlite3")
        port = port or free_port()
        base_url = f"http://127.0.0.1:{port}"
        log_path = db_path + ".log"
        cmd = [sys.executable, "-m", "google_emulator", "--host", "127.0.0.1", "--port", str(port),
               "--db", db_path, "--admin"]
        if seed_demo:
            cmd.append("--seed-demo")
        penv = dict(os.environ, **(env or {}))
        penv["PYTHONPATH"] = PACKAGE_ROOT + os.pathsep + penv.get("PYTHONPATH", "")
        log = open(log_path, "ab")
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=penv, cwd=PACKAGE_ROOT)
        log.close()
        server = cls(proc, base_url, db_path, log_path, tmpdir)
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"emulator exited with {proc.returncode}; see {log_path}")
            try:
                if server.http.get(base_url + "/_emulator/health", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"emulator did not become healthy; see {log_path}")
            time.sleep(0.05)
        if latency_ms:
            server.set_latency(latency_ms)
        return server

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.http.close()
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # ------------------------------------------------------------------ URLs
    @property
    def api_endpoint(self) -> str:
        return self.base_url + "/calendar/v3/"

    @property
    def batch_uri(self) -> str:
        return self.base_url + "/batch/calendar/v3"

    @property
    def token_uri(self) -> str:
        return self.base_url + "/token"

    # ------------------------------------------------------------------ admin client
    def _post(self, path, json=None):
        r = self.http.post(self.base_url + "/_emulator/" + path, json=json or {}, timeout=30)
        r.raise_for_status()
        return r.json()

    def _get(self, path, params=None):
        r = self.http.get(self.base_url + "/_emulator/" + path, params=params, timeout=30)
        r.raise_for_status()
        return r.json()

    def reset(self, seed_demo=False):
        return self._post("reset", {"seed_demo": seed_demo})

    def seed_demo(self):
        return self._post("seed-demo")

    def add_account(self, email, name, calendars=None):
        body = {"email": email, "name": name}
        if calendars is not None:
            body["calendars"] = calendars
        return self._post("accounts", body)

    def register_client(self, client_id, client_secret, redirect_uris, name="My Portal App"):
        return self._post("clients", {"client_id": client_id, "client_secret": client_secret,
                                      "redirect_uris": list(redirect_uris), "name": name})

    def counters(self) -> dict:
        return self._get("counters")

    def reset_counters(self):
        return self._post("counters/reset")

    def set_latency(self, ms, batch_inner_ms=0):
        return self._post("latency", {"ms": ms, "batch_inner_ms": batch_inner_ms})

    def add_fault(self, **rule):
        return self._post("faults", rule)

    def clear_faults(self):
        r = self.http.delete(self.base_url + "/_emulator/faults", timeout=30)
        r.raise_for_status()
        return r.json()

    def revoke_user_tokens(self, email):
        return self._post("tokens/revoke", {"email": email})

    def issue_token(self, email, client_id, scopes) -> str:
        return self.issue_tokens(email, client_id, scopes)["access_token"]

    def issue_tokens(self, email, client_id, scopes, refresh=True) -> dict:
        """Full token response (access_token, refresh_token, scope, ...)."""
        return self._post("tokens/issue", {"email": email, "client_id": client_id, "scopes": list(scopes),
                                           "refresh": refresh})

    def expire_sync_tokens(self):
        return self._post("sync-tokens/expire")

    def set_quota(self, n, window_seconds=60):
        return self._post("quota", {"per_user_per_minute": n, "window_seconds": window_seconds})

    def set_token_lifetime(self, seconds):
        return self._post("token-lifetime", {"seconds": seconds})

    def events(self, calendar_id) -> list:
        return self._get("events", {"calendarId": calendar_id})["items"]

    def notifications(self) -> list:
        return self._get("notifications")["items"]
