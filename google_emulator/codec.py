"""Opaque tokens and ids in the shapes Google hands out (page/sync tokens, base32hex event ids)."""
from __future__ import annotations

import base64
import json
import secrets
from typing import Any

B32HEX = "0123456789abcdefghijklmnopqrstuv"


def new_id(n: int = 26) -> str:
    """A server-chosen event or calendar id: base32hex, as Google's own ids are."""
    return "".join(secrets.choice(B32HEX) for _ in range(n))


def b64(obj: Any) -> str:
    """Encode a token's state as unpadded URL-safe base64 JSON: opaque to clients, readable to us."""
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")


def unb64(s: str) -> Any:
    """Decode `b64`; raises on anything a client mangled (callers turn that into Google's error)."""
    s = s + "=" * (-len(s) % 4)
    return json.loads(base64.urlsafe_b64decode(s.encode()))


def as_bool(v: object, default: bool = False) -> bool:
    """A query-string boolean (`true`/`1`), as Google reads `singleEvents` and `showDeleted`."""
    if v is None:
        return default
    if isinstance(v, bool):
        return v
    return str(v).lower() in ("true", "1")
