"""Batch endpoint through BatchHttpRequest, plus raw wire checks of the multipart layout."""
import json
import uuid

import requests
from googleapiclient.errors import HttpError

from .conftest import ALEX, CAL, CLIENT_ID

T = {"start": {"dateTime": "2030-01-07T10:00:00Z"}, "end": {"dateTime": "2030-01-07T11:00:00Z"}}


def test_batch_mixed_successes_and_failures(emu, svc, new_batch):
    existing = svc.events().insert(calendarId="primary", body=dict(T, id="old0001aaaa")).execute()
    results = {}

    def cb(request_id, response, exception):
        results[request_id] = (response, exception)

    emu.reset_counters()
    b = new_batch(cb)
    b.add(svc.events().insert(calendarId="primary", body=dict(T, summary="new", id="batchok00001")), request_id="ok")
    b.add(svc.events().insert(calendarId="primary", body=dict(T, id="old0001aaaa")), request_id="dup")
    b.add(svc.events().patch(calendarId="primary", eventId="old0001aaaa", body={"summary": "p"}), request_id="patch")
    b.add(svc.events().delete(calendarId="primary", eventId="old0001aaaa"), request_id="del")
    b.add(svc.events().get(calendarId="primary", eventId="missing00001"), request_id="404")
    b.add(svc.events().insert(calendarId="primary", body=dict(T, id="BAD!")), request_id="bad")
    b.execute()
    assert results["ok"][0]["id"] == "batchok00001" and results["ok"][1] is None
    assert isinstance(results["dup"][1], HttpError) and results["dup"][1].resp.status == 409
    assert results["patch"][0]["summary"] == "p"
    assert results["del"] == ("", None) or results["del"][1] is None
    assert results["404"][1].resp.status == 404
    assert results["bad"][1].resp.status == 400
    c = emu.counters()
    assert c["total"] == 6 and c["batch_requests"] == 1
    assert c["methods"]["calendar.events.insert"] == 3
    assert svc.events().get(calendarId="primary", eventId=existing["id"]).execute()["status"] == "cancelled"


def test_batch_via_patched_discovery_document(emu, make_creds):
    from googleapiclient.discovery import build
    creds = make_creds()
    svc = build("calendar", "v3", credentials=creds, static_discovery=False, cache_discovery=False,
                discoveryServiceUrl=emu.base_url + "/discovery/v1/apis/{api}/{apiVersion}/rest")
    out = []
    b = svc.new_batch_http_request(callback=lambda rid, resp, exc: out.append((resp, exc)))
    for i in range(3):
        b.add(svc.events().insert(calendarId="primary", body=dict(T, summary=str(i))))
    b.execute()
    assert len(out) == 3 and all(exc is None for _, exc in out)
    assert len(svc.events().list(calendarId="primary").execute()["items"]) == 3


def _raw_batch(emu, parts, newline):
    boundary = "===============7330845974216740156=="
    token = emu.issue_token(ALEX, CLIENT_ID, [CAL])
    chunks = []
    for i, (line, body) in enumerate(parts, 1):
        inner = [line, "Content-Type: application/json", "authorization: Bearer " + token, "", body or ""]
        chunks.append(newline.join([f"--{boundary}", "Content-Type: application/http",
                                    "Content-Transfer-Encoding: binary", "MIME-Version: 1.0",
                                    f"Content-ID: <{uuid.uuid4()} + {i}>", ""] + inner))
    payload = newline.join(chunks) + newline + f"--{boundary}--" + newline
    return requests.post(emu.batch_uri, data=payload.encode(),
                         headers={"Content-Type": f'multipart/mixed; boundary="{boundary}"'})


def test_raw_wire_layout_lf_and_crlf(emu):
    for nl in ("\n", "\r\n"):
        r = _raw_batch(emu, [("POST /calendar/v3/calendars/primary/events?alt=json HTTP/1.1", json.dumps(T)),
                             ("DELETE /calendar/v3/calendars/primary/events/nosuch00001 HTTP/1.1", "")], nl)
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("multipart/mixed; boundary=")
        text = r.text
        assert "Content-ID: <response-" in text and " + 1>" in text and " + 2>" in text
        assert "HTTP/1.1 200 OK\r\n" in text and "HTTP/1.1 404 Not Found\r\n" in text
        boundary = r.headers["Content-Type"].split("boundary=")[1]
        assert text.startswith(f"--{boundary}\r\n") and text.endswith(f"\r\n--{boundary}--\r\n")
        part = text.split("HTTP/1.1 200 OK\r\n", 1)[1]
        head, _, _ = part.partition("\r\n\r\n")
        assert head.strip() and ":" in head  # at least one header line


def test_too_many_calls_rejected(emu):
    parts = [("GET /calendar/v3/calendars/primary/events HTTP/1.1", "")] * 1001
    r = _raw_batch(emu, parts, "\n")
    assert r.status_code == 400 and r.json()["error"]["code"] == 400
