"""Admin controls: fault injection, latency, counters, token lifetime (Google's limits: test_limits.py)."""
import json
import time

import pytest
from googleapiclient.errors import HttpError


def reason(e):
    return json.loads(e.content)["error"]["errors"][0]["reason"]


def test_fault_429_with_retry_after_then_recovers(emu, svc):
    emu.add_fault(status=429, count=1, retry_after=7)
    with pytest.raises(HttpError) as ei:
        svc.events().list(calendarId="primary").execute()
    assert ei.value.resp.status == 429 and ei.value.resp["retry-after"] == "7"
    assert reason(ei.value) == "rateLimitExceeded"
    assert svc.events().list(calendarId="primary").execute()["items"] == []


def test_client_retries_retryable_faults(emu, svc):
    emu.add_fault(status=403, reason="userRateLimitExceeded", count=1)
    emu.add_fault(status=503, count=1)
    r = svc.events().list(calendarId="primary")
    r._sleep = lambda s: None
    assert r.execute(num_retries=3)["items"] == []
    assert emu.counters()["methods"]["calendar.events.list"] == 3


def test_quota_exceeded_not_retried_and_match(emu, svc):
    emu.add_fault(status=403, reason="quotaExceeded", count=5, match="events.insert")
    svc.events().list(calendarId="primary").execute()
    r = svc.events().insert(calendarId="primary", body={"start": {"date": "2030-01-01"},
                                                         "end": {"date": "2030-01-02"}})
    r._sleep = lambda s: None
    with pytest.raises(HttpError) as ei:
        r.execute(num_retries=3)
    assert reason(ei.value) == "quotaExceeded"
    assert json.loads(ei.value.content)["error"]["message"] == "Calendar usage limits exceeded."
    emu.clear_faults()
    r.execute()


def test_fraction_faults(emu, svc):
    emu.add_fault(status=500, fraction=1.0)
    with pytest.raises(HttpError) as ei:
        svc.events().list(calendarId="primary").execute()
    assert ei.value.resp.status == 500 and reason(ei.value) == "backendError"
    emu.clear_faults()
    svc.events().list(calendarId="primary").execute()


def test_latency(emu, svc):
    svc.events().list(calendarId="primary").execute()
    emu.set_latency(150)
    t = time.monotonic()
    svc.events().list(calendarId="primary").execute()
    assert time.monotonic() - t >= 0.15
    emu.set_latency(0)


def test_counters_and_events_dump(emu, svc):
    emu.reset_counters()
    ev = svc.events().insert(calendarId="primary", body={"start": {"date": "2030-01-01"},
                                                          "end": {"date": "2030-01-02"}}).execute()
    svc.events().get(calendarId="primary", eventId=ev["id"]).execute()
    c = emu.counters()
    assert c["total"] == 2 and c["methods"] == {"calendar.events.insert": 1, "calendar.events.get": 1}
    dump = emu.events("alex@example.com")
    assert [e["id"] for e in dump] == [ev["id"]]


def test_expired_access_token_is_401_then_refreshed(emu, make_service, make_creds):
    import requests
    emu.set_token_lifetime(1)
    creds = make_creds()
    time.sleep(1.2)
    r = requests.get(emu.api_endpoint + "calendars/primary/events", headers={"Authorization": "Bearer " + creds.token})
    assert r.status_code == 401 and r.json()["error"]["errors"][0]["reason"] == "authError"
    emu.set_token_lifetime(3599)
    svc = make_service(creds=creds)
    assert svc.events().list(calendarId="primary").execute()["items"] == []  # google-auth refreshed on 401
    assert emu.counters()["endpoints"]["POST /token"] >= 1


def test_seeded_shared_calendar(emu, make_service):
    shared = {"id": "c_shared@group.calendar.google.com", "summary": "Clinic", "timeZone": "Europe/London",
              "accessRole": "owner"}
    emu.add_account("owner@example.com", "Owner", calendars=[shared])
    emu.add_account("helper@example.com", "Helper", calendars=[dict(shared, accessRole="writer")])
    own = make_service(email="owner@example.com")
    helper = make_service(email="helper@example.com")
    entries = {c["id"]: c for c in helper.calendarList().list().execute()["items"]}
    assert entries[shared["id"]]["accessRole"] == "writer" and entries[shared["id"]]["timeZone"] == "Europe/London"
    assert {c["summary"] for c in entries.values()} >= {"Team Holidays", "Company Holidays", "Clinic"}
    ev = helper.events().insert(calendarId=shared["id"], body={"start": {"date": "2030-01-01"},
                                                               "end": {"date": "2030-01-02"}}).execute()
    assert own.events().get(calendarId=shared["id"], eventId=ev["id"]).execute()["id"] == ev["id"]
