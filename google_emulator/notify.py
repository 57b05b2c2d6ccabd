"""events.watch channels and push-notification delivery (Google's X-Goog-* web hooks).

Changes are queued after the database commit and delivered by one background
thread, so API latency never includes webhook time. Bursts of changes to the
same channel that are still queued are coalesced into one `exists` message (Google
also coalesces); `sync` messages are never merged. 5xx answers are retried twice.
"""
from __future__ import annotations

import email.utils
import secrets
import threading
import time
import urllib.parse

import requests

from . import errors as E
from .controls import Controls
from .service_core import Calendar
from .storage import Store

RETRY_STATUSES = (500, 502, 503, 504)
DEFAULT_TTL = 604800
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class Notifier:
    def __init__(self, store: Store, controls: Controls) -> None:
        self.store = store
        self.controls = controls
        self.cond = threading.Condition()
        self.queue: list[tuple[str, str]] = []  # (channel_id, state)
        self.session = requests.Session()
        self.delivered: list[dict] = []
        self.thread = threading.Thread(target=self._run, name="push-notifier", daemon=True)
        self.thread.start()

    # ------------------------------------------------------------------ channels
    def watch(self, email: str, client_id: str | None, cal: Calendar, body: object) -> dict:
        if not isinstance(body, dict):
            raise E.bad_request("Parse Error", reason="parseError")
        cid = body.get("id")
        if not cid or not isinstance(cid, str):
            raise E.required("Required", location="id")
        if len(cid) > 64:
            raise E.invalid("Channel id too long.", location="id")
        if body.get("type") not in ("web_hook", "webhook"):
            raise E.ApiError(400, "invalidType", f"Invalid channel type: {body.get('type')}", domain="push")
        address = body.get("address") or ""
        if not self._address_allowed(address):
            raise E.ApiError(400, "push.webhookUrlNotHttps", "WebHook callback must be HTTPS: " + address,
                             domain="global")
        token = body.get("token")
        if token is not None and len(str(token)) > 256:
            raise E.invalid("Channel token too long.", location="token")
        ttl = DEFAULT_TTL
        params = body.get("params") or {}
        if params.get("ttl") is not None:
            try:
                ttl = min(int(params["ttl"]), DEFAULT_TTL * 4)
            except (TypeError, ValueError):
                raise E.invalid("Invalid ttl.", location="params.ttl")
        exp = int(time.time() * 1000) + ttl * 1000
        if body.get("expiration"):
            try:
                exp = min(exp, int(body["expiration"]))
            except (TypeError, ValueError):
                raise E.invalid("Invalid expiration.", location="expiration")
        resource_id = secrets.token_urlsafe(20)[:27]
        with self.store.tx() as c:
            if c.execute("SELECT 1 FROM channels WHERE id=?", (cid,)).fetchone():
                raise E.ApiError(400, "channelIdNotUnique", f"Channel id {cid} not unique", domain="global")
            c.execute("INSERT INTO channels(id, resource_id, calendar_id, address, token, expiration_ms, email, "
                      "client_id) VALUES (?,?,?,?,?,?,?,?)",
                      (cid, resource_id, cal["id"], address, token, exp, email, client_id))
            self.store.after_commit(lambda: self._enqueue([(cid, "sync")]))
        out = {"kind": "api#channel", "id": cid, "resourceId": resource_id,
               "resourceUri": self.resource_uri(cal["id"]), "expiration": str(exp)}
        if token is not None:
            out["token"] = token
        return out

    def _address_allowed(self, address: str) -> bool:
        """HTTPS only, as Google; plain http to this machine only under the development flag."""
        u = urllib.parse.urlparse(address)
        if u.scheme == "https" and u.hostname:
            return True
        return (u.scheme == "http" and u.hostname in LOOPBACK_HOSTS
                and self.controls.limits.settings.allow_http_webhooks)

    @staticmethod
    def resource_uri(cal_id: str) -> str:
        calendar = urllib.parse.quote(cal_id, safe="")
        return f"https://www.googleapis.com/calendar/v3/calendars/{calendar}/events?alt=json"

    def stop(self, email: str, body: object) -> None:
        if not isinstance(body, dict) or not body.get("id"):
            raise E.required("Required", location="id")
        r = self.store.q1("SELECT * FROM channels WHERE id=?", (body["id"],))
        if not r or r["stopped"] or (body.get("resourceId") and body["resourceId"] != r["resource_id"]):
            raise E.ApiError(404, "notFound", f"Channel '{body['id']}' not found for project", domain="global")
        if r["email"] != email:
            raise E.ApiError(403, "forbidden", "Forbidden")
        with self.store.tx() as c:
            c.execute("UPDATE channels SET stopped=1 WHERE id=?", (body["id"],))

    # ------------------------------------------------------------------ delivery
    def calendar_changed(self, cal_id: str) -> None:
        now_ms = int(time.time() * 1000)
        rows = self.store.q("SELECT id FROM channels WHERE calendar_id=? AND stopped=0 AND "
                            "(expiration_ms IS NULL OR expiration_ms > ?)", (cal_id, now_ms))
        if rows:
            self._enqueue([(r["id"], "exists") for r in rows])

    def _enqueue(self, items: list[tuple[str, str]]) -> None:
        with self.cond:
            for it in items:
                if it[1] == "exists" and it in self.queue:
                    continue  # coalesce with a pending 'exists' for the same channel
                self.queue.append(it)
            self.cond.notify()

    def _run(self) -> None:
        while True:
            with self.cond:
                while not self.queue:
                    self.cond.wait()
                cid, state = self.queue.pop(0)
            try:
                self._deliver(cid, state)
            except Exception:  # never let one bad channel kill delivery
                pass

    def _deliver(self, cid: str, state: str) -> None:
        with self.store.tx() as c:
            r = c.execute("SELECT * FROM channels WHERE id=?", (cid,)).fetchone()
            if not r or r["stopped"]:
                return
            if r["expiration_ms"] and r["expiration_ms"] <= time.time() * 1000:
                return
            num = 1 if state == "sync" else max(r["msg_num"] + 1 + secrets.randbelow(3), 2)
            c.execute("UPDATE channels SET msg_num=? WHERE id=?", (num, cid))
        headers = {"User-Agent": "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)",
                   "X-Goog-Channel-ID": cid, "X-Goog-Message-Number": str(num),
                   "X-Goog-Resource-ID": r["resource_id"], "X-Goog-Resource-URI": self.resource_uri(r["calendar_id"]),
                   "X-Goog-Resource-State": state, "Content-Length": "0"}
        if r["expiration_ms"]:
            headers["X-Goog-Channel-Expiration"] = email.utils.formatdate(r["expiration_ms"] / 1000, usegmt=True)
        if r["token"] is not None:
            headers["X-Goog-Channel-Token"] = r["token"]
        for attempt in range(3):
            try:
                resp = self.session.post(r["address"], headers=headers, data=b"", timeout=5)
                status = resp.status_code
            except requests.RequestException:
                status = 599
            self.controls.count("notify")
            self.delivered.append({"channel": cid, "state": state, "status": status, "number": num})
            del self.delivered[:-200]
            if status not in RETRY_STATUSES and status != 599:
                return
            time.sleep(0.2 * (2 ** attempt))
