"""Runtime test/bench controls: request counters, latency, fault rules, token lifetime, and Google's limits.

Kept in memory (one emulator process) and reset by the admin API; every Calendar
call, including each inner call of a batch, passes through `Controls.before_call`
and, once its caller is known, `Controls.limits.admit_request`.
"""
from __future__ import annotations

import collections
import random
import threading
import time

from . import errors as E
from .limits import Limits, LimitSettings

FAULT_REASONS = {
    429: ("usageLimits", "rateLimitExceeded", "Rate Limit Exceeded"),
    500: ("global", "backendError", "Backend Error"),
    503: ("global", "backendError", "Backend Error"),
}
REASON_403 = {
    "rateLimitExceeded": ("usageLimits", "Rate Limit Exceeded"),
    "userRateLimitExceeded": ("usageLimits", "Rate Limit Exceeded"),
    "quotaExceeded": ("usageLimits", "Calendar usage limits exceeded."),
}


class Controls:
    def __init__(self, startup_limits: LimitSettings | None = None) -> None:
        self.lock = threading.Lock()
        self.limits = Limits(startup_limits or LimitSettings())
        self.reset()

    def reset(self) -> None:
        """Back to the start state: no faults or latency, Google's limits as the flags set them."""
        with self.lock:
            self.counters: collections.Counter[str] = collections.Counter()
            self.latency_ms = 0
            self.batch_inner_latency_ms = 0
            self.faults: list[dict] = []
            self.token_lifetime = 3599
        self.limits.reset()

    def reset_counters(self) -> None:
        with self.lock:
            self.counters = collections.Counter()

    def count(self, key: str) -> None:
        with self.lock:
            self.counters[key] += 1

    def snapshot(self) -> dict:
        with self.lock:
            c = dict(self.counters)
        methods = {k[4:]: v for k, v in c.items() if k.startswith("api:")}
        endpoints = {k[5:]: v for k, v in c.items() if k.startswith("http:")}
        return {"total": sum(methods.values()), "methods": methods, "endpoints": endpoints,
                "batch_requests": c.get("batch", 0), "notifications_sent": c.get("notify", 0),
                "rate_limited": c.get("rate_limited", 0)}

    def add_fault(self, rule: dict) -> dict:
        status = int(rule.get("status", 500))
        if status not in (403, 429, 500, 503):
            raise ValueError("status must be 403, 429, 500 or 503")
        if status == 403 and rule.get("reason", "rateLimitExceeded") not in REASON_403:
            raise ValueError("reason must be rateLimitExceeded, userRateLimitExceeded or quotaExceeded")
        r = {"status": status, "reason": rule.get("reason"), "retry_after": rule.get("retry_after"),
             "remaining": rule.get("count", rule.get("times")), "fraction": rule.get("fraction"),
             "match": rule.get("match"), "after": int(rule.get("after") or 0), "hits": 0}
        if r["remaining"] is None and r["fraction"] is None:
            r["remaining"] = 1
        with self.lock:
            self.faults.append(r)
        return r

    def clear_faults(self) -> None:
        with self.lock:
            self.faults = []

    def _pick_fault(self, label: str) -> dict | None:
        with self.lock:
            for r in self.faults:
                if r["match"] and r["match"] not in label:
                    continue
                if r["after"] > 0:  # the first `after` matching calls go through
                    r["after"] -= 1
                    continue
                if r["remaining"] is not None:
                    if r["remaining"] <= 0:
                        continue
                    if r["fraction"] is not None and random.random() >= float(r["fraction"]):
                        continue
                    r["remaining"] -= 1
                elif random.random() >= float(r["fraction"]):
                    continue
                r["hits"] += 1
                return dict(r)
        return None

    def before_call(self, method_id: str, label: str, inner: bool = False) -> None:
        """Count, delay and maybe fail one API call (label is e.g. 'GET /calendar/v3/...')."""
        self.count("api:" + method_id)
        delay = self.batch_inner_latency_ms if inner else self.latency_ms
        if delay:
            time.sleep(delay / 1000.0)
        f = self._pick_fault(f"{method_id} {label}")
        if f:
            headers = {}
            if f["retry_after"] is not None:
                headers["Retry-After"] = str(f["retry_after"])
            if f["status"] == 403:
                reason = f["reason"] or "rateLimitExceeded"
                domain, msg = REASON_403[reason]
                raise E.ApiError(403, reason, msg, domain=domain, headers=headers)
            domain, reason, msg = FAULT_REASONS[f["status"]]
            if f["status"] == 503:
                msg = "Service Unavailable"
            raise E.ApiError(f["status"], reason, msg, domain=domain, headers=headers)
