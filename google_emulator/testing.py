"""Run the emulator as a subprocess and drive its admin API (for tests and bench scripts).

    emu = EmulatorServer.start()          # free port, --admin, waits for /_emulator/health
    emu.reset(); emu.add_account("alex@example.com", "Alex Client")
    ...
    emu.stop()

Designed for a session-scoped pytest fixture: start once, `reset()` between tests. The emulator starts
as strict as Google (HTTPS-only webhooks, Google's quotas and use limits); `start` takes the flags that
relax or scale them, and `reset` returns to what `start` set.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any

import requests

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def limit_flags(allow_http_webhooks: bool = False, quota_per_user: int | None = None,
                quota_per_project: int | None = None) -> list[str]:
    """Command-line flags for the emulator's development relaxations and scaled quotas."""
    flags = ["--allow-http-webhooks"] if allow_http_webhooks else []
    if quota_per_user is not None:
        flags += ["--quota-per-user", str(quota_per_user)]
    if quota_per_project is not None:
        flags += ["--quota-per-project", str(quota_per_project)]
    return flags


class EmulatorServer:
    def __init__(self, proc: subprocess.Popen, base_url: str, db_path: str, log_path: str,
                 tmpdir: tempfile.TemporaryDirectory | None = None) -> None:
        self.proc = proc
        self.base_url = base_url
        self.db_path = db_path
        self.log_path = log_path
        self._tmpdir = tmpdir
        self.http = requests.Session()

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def start(cls, db_path: str | None = None, port: int | None = None, latency_ms: int = 0, seed_demo: bool = False,
              env: dict[str, str] | None = None, timeout: float = 30.0, allow_http_webhooks: bool = False,
              quota_per_user: int | None = None, quota_per_project: int | None = None) -> EmulatorServer:
        tmpdir = None
        if db_path is None:
            tmpdir = tempfile.TemporaryDirectory(prefix="gemu-")
            db_path = os.path.join(tmpdir.name, "emu.sqlite3")
        port = port or free_port()
        base_url = f"http://127.0.0.1:{port}"
        log_path = db_path + ".log"
        cmd = [sys.executable, "-m", "google_emulator", "--host", "127.0.0.1", "--port", str(port),
               "--db", db_path, "--admin",
               *limit_flags(allow_http_webhooks, quota_per_user, quota_per_project)]
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

    def stop(self) -> None:
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

    def __enter__(self) -> EmulatorServer:
        return self

    def __exit__(self, *exc: object) -> None:
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
    def _post(self, path: str, json: dict | None = None) -> Any:
        r = self.http.post(self.base_url + "/_emulator/" + path, json=json or {}, timeout=30)
        r.raise_for_status()
        return r.json()

    def _get(self, path: str, params: dict | None = None) -> Any:
        r = self.http.get(self.base_url + "/_emulator/" + path, params=params, timeout=30)
        r.raise_for_status()
        return r.json()

    def reset(self, seed_demo: bool = False) -> dict:
        """Empty storage, no faults, counters zero, and Google's limits back to the start flags."""
        return self._post("reset", {"seed_demo": seed_demo})

    def seed_demo(self) -> dict:
        return self._post("seed-demo")

    def add_account(self, email: str, name: str, calendars: list[dict] | None = None) -> dict:
        body: dict[str, Any] = {"email": email, "name": name}
        if calendars is not None:
            body["calendars"] = calendars
        return self._post("accounts", body)

    def register_client(self, client_id: str, client_secret: str, redirect_uris: list[str],
                        name: str = "My Portal App") -> dict:
        return self._post("clients", {"client_id": client_id, "client_secret": client_secret,
                                      "redirect_uris": list(redirect_uris), "name": name})

    def counters(self) -> dict:
        return self._get("counters")

    def reset_counters(self) -> dict:
        return self._post("counters/reset")

    def set_latency(self, ms: int, batch_inner_ms: int = 0) -> dict:
        return self._post("latency", {"ms": ms, "batch_inner_ms": batch_inner_ms})

    def add_fault(self, **rule: Any) -> dict:
        return self._post("faults", rule)

    def faults(self) -> list[dict]:
        """The fault rules, each with its `hits` so far."""
        return self._get("faults")

    def clear_faults(self) -> dict:
        r = self.http.delete(self.base_url + "/_emulator/faults", timeout=30)
        r.raise_for_status()
        return r.json()

    def revoke_user_tokens(self, email: str) -> dict:
        return self._post("tokens/revoke", {"email": email})

    def issue_token(self, email: str, client_id: str, scopes: list[str]) -> str:
        return self.issue_tokens(email, client_id, scopes)["access_token"]

    def issue_tokens(self, email: str, client_id: str, scopes: list[str], refresh: bool = True) -> dict:
        """Full token response (access_token, refresh_token, scope, ...)."""
        return self._post("tokens/issue", {"email": email, "client_id": client_id, "scopes": list(scopes),
                                           "refresh": refresh})

    def expire_sync_tokens(self) -> dict:
        return self._post("sync-tokens/expire")

    def limits(self) -> dict:
        """Google's limits as now set, plus `read_only_seconds_left` per user under a use limit."""
        return self._get("limits")

    def set_quota(self, per_user_per_minute: int | None = None, per_project_per_minute: int | None = None,
                  share_429: float | None = None, window_seconds: float | None = None) -> dict:
        """Change the per-minute quotas (0: off), the share of refusals answered 429 and the length of the
        sliding window, until `reset`."""
        return self._post("quota", {"per_user_per_minute": per_user_per_minute,
                                    "per_project_per_minute": per_project_per_minute, "share_429": share_429,
                                    "quota_window_seconds": window_seconds})

    def set_use_limits(self, event_creations: int | None = None, calendar_creations: int | None = None,
                       period_seconds: float | None = None, read_only_seconds: float | None = None) -> dict:
        """Change Google's Calendar use limits (creations per period, read-only duration), until `reset`."""
        return self._post("use-limits", {"event_creations": event_creations, "calendar_creations": calendar_creations,
                                         "use_limit_period_seconds": period_seconds,
                                         "read_only_seconds": read_only_seconds})

    def allow_http_webhooks(self, allowed: bool = True) -> dict:
        """Accept (or refuse, as Google does) http://127.0.0.1 watch addresses, until `reset`."""
        return self._post("webhooks", {"allow_http_webhooks": allowed})

    def set_token_lifetime(self, seconds: int) -> dict:
        return self._post("token-lifetime", {"seconds": seconds})

    def events(self, calendar_id: str) -> list:
        return self._get("events", {"calendarId": calendar_id})["items"]

    def notifications(self) -> list:
        return self._get("notifications")["items"]
