"""Google Meet links through `conferenceData` (only with `conferenceDataVersion=1`, as Google does).

A `createRequest` with a new `requestId` creates a Meet conference (answered `success` at once); the same
`requestId` again keeps the existing one, so a retried write never makes a second meeting.
"""
from __future__ import annotations

import hashlib

from . import errors as E
from .service_core import Event

MEET_ICON = ("https://fonts.gstatic.com/s/i/productlogos/meet_2020q4/v6/web-512dp/"
             "logo_meet_2020q4_color_2x_web_512dp.png")


def conference_version(params: dict) -> int:
    """`conferenceDataVersion` as Google reads it: 0 unless a non-negative integer is given."""
    raw = str(params.get("conferenceDataVersion") or "0")
    return int(raw) if raw.isdigit() else 0


def apply_conference(ev: Event, body: dict, old: Event | None, version: int) -> None:
    if version < 1:  # conferenceData in the body is ignored; an existing conference is kept
        if old is not None and "conferenceData" in old:
            ev["conferenceData"] = old["conferenceData"]
            if old.get("hangoutLink"):
                ev["hangoutLink"] = old["hangoutLink"]
        else:
            ev.pop("conferenceData", None)
        return
    cd = body.get("conferenceData")
    if cd is None:
        if "conferenceData" in body:  # explicit null clears
            ev.pop("conferenceData", None)
            ev.pop("hangoutLink", None)
        return
    if not isinstance(cd, dict):
        raise E.invalid("Invalid conference data.", location="conferenceData")
    cr = cd.get("createRequest")
    if not cr:
        ev["conferenceData"] = cd
        return
    rid = cr.get("requestId")
    if not rid:
        raise E.required("Missing conference request id.", location="conferenceData.createRequest.requestId")
    if (cr.get("conferenceSolutionKey") or {}).get("type", "hangoutsMeet") != "hangoutsMeet":
        raise E.invalid("Invalid conference type value.", location="conferenceData")
    if old and ((old.get("conferenceData") or {}).get("createRequest") or {}).get("requestId") == rid:
        ev["conferenceData"] = old["conferenceData"]
        ev["hangoutLink"] = old.get("hangoutLink")
        return
    code = meet_code(rid)
    uri = f"https://meet.google.com/{code}"
    ev["conferenceData"] = {
        "createRequest": {"requestId": rid, "conferenceSolutionKey": {"type": "hangoutsMeet"},
                          "status": {"statusCode": "success"}},
        "entryPoints": [{"entryPointType": "video", "uri": uri, "label": uri[8:]}],
        "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet", "iconUri": MEET_ICON},
        "conferenceId": code,
    }
    ev["hangoutLink"] = uri


def meet_code(request_id: str) -> str:
    """A stable `aaa-bbbb-ccc` code per request id."""
    h = hashlib.sha256(request_id.encode()).hexdigest()
    letters = "".join(chr(97 + int(h[i:i + 2], 16) % 26) for i in range(0, 20, 2))
    return f"{letters[:3]}-{letters[3:7]}-{letters[7:10]}"
