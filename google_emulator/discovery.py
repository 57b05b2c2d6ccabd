"""The bundled calendar.v3 discovery document: per-method scopes and the patched copy we serve.

Scopes are read from google-api-python-client's own bundled document so the
emulator enforces exactly what the client library advertises.
"""
from __future__ import annotations

import functools
import json
import os
from typing import Any

import googleapiclient

DOC_PATH = os.path.join(os.path.dirname(googleapiclient.__file__), "discovery_cache", "documents",
                        "calendar.v3.json")
AUTH = "https://www.googleapis.com/auth/"
SIGN_IN = {"openid", "email", "profile", AUTH + "userinfo.email", AUTH + "userinfo.profile"}


@functools.lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    with open(DOC_PATH, encoding="utf-8") as f:
        return json.load(f)


@functools.lru_cache(maxsize=1)
def method_scopes() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}

    def walk(res: dict[str, Any]) -> None:
        for r in res.values():
            for m in r.get("methods", {}).values():
                out[m["id"]] = set(m.get("scopes", []))
            walk(r.get("resources", {}))
    walk(document()["resources"])
    return out


def scope_descriptions() -> dict[str, str]:
    d = {k: v["description"] for k, v in document()["auth"]["oauth2"]["scopes"].items()}
    d[AUTH + "userinfo.email"] = "See your primary Google Account email address"
    d[AUTH + "userinfo.profile"] = "See your personal info, including any personal info you've made publicly available"
    return d


def normalize_scope(s: str) -> str:
    """Google returns `email`/`profile` as their userinfo URLs."""
    return {"email": AUTH + "userinfo.email", "profile": AUTH + "userinfo.profile"}.get(s, s)


def patched_document(base_url: str) -> dict[str, Any]:
    doc = json.loads(json.dumps(document()))
    root = base_url.rstrip("/") + "/"
    doc["rootUrl"] = root
    doc["baseUrl"] = root + doc["servicePath"]
    doc["mtlsRootUrl"] = root
    return doc
