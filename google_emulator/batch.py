"""`POST /batch/calendar/v3`: Google's multipart/mixed batch, in the exact wire layout
google-api-python-client's BatchHttpRequest writes (LF) and parses (CRLF, `Content-ID:
<response-... + N>`, status line with reason phrase, at least one header line)."""
from __future__ import annotations

import http.client
import json
import re
import secrets
import time
import urllib.parse

from flask import Blueprint, Response, request

from . import errors as E
from .calendar_api import handle_call
from .context import current_emulator

bp = Blueprint("batch", __name__)
MAX_CALLS = 1000


def _error(status: int, reason: str, message: str) -> Response:
    err = E.ApiError(status, reason, message)
    return Response(json.dumps(err.body()), status=status, mimetype="application/json")


def parse_parts(body: bytes, boundary: str) -> list[tuple[dict[str, str], str]]:
    """Split a multipart body into (part_headers, inner_request_text) tuples; LF or CRLF."""
    text = body.decode("utf-8", errors="replace").replace("\r\n", "\n")
    delim = "--" + boundary
    chunks = text.split(delim)
    parts = []
    for chunk in chunks[1:]:
        if chunk.startswith("--"):
            break
        chunk = chunk[1:] if chunk.startswith("\n") else chunk
        head, sep, rest = chunk.partition("\n\n")
        if not sep:
            continue
        hdrs = {}
        for line in head.split("\n"):
            if ":" in line:
                k, _, v = line.partition(":")
                hdrs[k.strip().lower()] = v.strip()
        if rest.endswith("\n"):
            rest = rest[:-1]
        parts.append((hdrs, rest))
    return parts


def parse_inner(text: str) -> tuple[str, str, dict[str, list[str]], dict[str, str], bytes]:
    """(method, path, query dict, headers dict, body bytes) of an embedded HTTP request."""
    head, _, body = text.partition("\n\n")
    lines = head.split("\n")
    m = re.match(r"^(\w+)\s+(\S+)(?:\s+HTTP/\d\.\d)?\s*$", lines[0].strip())
    if not m:
        raise ValueError("bad request line")
    method, target = m.group(1), m.group(2)
    u = urllib.parse.urlsplit(target)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
    query = urllib.parse.parse_qs(u.query, keep_blank_values=True)
    return method, u.path, query, headers, body.encode("utf-8")


class _Headers(dict[str, str]):
    """Inner-request headers, looked up case-insensitively as Werkzeug's are."""

    def get(self, k: str, default: str | None = None) -> str | None:
        return super().get(k.lower(), default)


@bp.post("/batch/calendar/v3")
@bp.post("/batch")
def batch() -> Response:
    e = current_emulator()
    e.controls.count("batch")
    e.controls.count("http:POST /batch/calendar/v3")
    if e.controls.latency_ms:
        time.sleep(e.controls.latency_ms / 1000.0)
    ctype = request.headers.get("Content-Type", "")
    m = re.search(r'boundary="?([^";]+)"?', ctype)
    if not ctype.startswith("multipart/mixed") or not m:
        return _error(400, "badRequest", "Expected multipart/mixed with a boundary.")
    parts = parse_parts(request.get_data(), m.group(1))
    if not parts:
        return _error(400, "badRequest", "Batch request contains no parts.")
    if len(parts) > MAX_CALLS:
        return _error(400, "badRequest", f"A batch request cannot contain more than {MAX_CALLS} requests.")
    outer_auth = request.headers.get("Authorization")
    out_boundary = "batch_" + secrets.token_hex(12)
    chunks = []
    for i, (ph, inner) in enumerate(parts, 1):
        cid = ph.get("content-id", f"<{i}>").strip()
        cid = cid[1:-1] if cid.startswith("<") and cid.endswith(">") else cid
        try:
            method, path, query, headers, body = parse_inner(inner)
            if "authorization" not in headers and outer_auth:
                headers["authorization"] = outer_auth
            path = path if path.startswith("/calendar/v3/") else "/calendar/v3/" + path.lstrip("/")
            status, rh, rbody = handle_call(method, path, query, _Headers(headers), body, inner=True)
        except ValueError:
            err = E.bad_request("Bad Request")
            status, rh, rbody = 400, {"Content-Type": "application/json; charset=UTF-8"}, json.dumps(
                err.body()).encode()
        reason = http.client.responses.get(status, "Unknown")
        lines = [f"--{out_boundary}", "Content-Type: application/http", f"Content-ID: <response-{cid}>", "",
                 f"HTTP/1.1 {status} {reason}"]
        rh = dict(rh)
        rh.setdefault("Content-Length", str(len(rbody)))
        lines += [f"{k}: {v}" for k, v in rh.items()]
        lines += ["", rbody.decode("utf-8")]
        chunks.append("\r\n".join(lines))
    payload = "\r\n".join(chunks) + f"\r\n--{out_boundary}--\r\n"
    return Response(payload.encode("utf-8"), status=200,
                    headers={"Content-Type": f"multipart/mixed; boundary={out_boundary}", "Vary": "Origin"})
