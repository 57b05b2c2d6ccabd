"""Google's strictness by default: withheld details of deleted events, HTTPS-only webhooks, channel ids.

Driven only by google-api-python-client; the admin controls (requests) only change the emulator's flags.
"""
import json

import pytest
from googleapiclient.errors import HttpError

PRIVATE = {"private": {"portalRef": "task:1:1"}}
T = {"summary": "Dentist", "description": "bring card", "location": "Main St", "extendedProperties": PRIVATE,
     "start": {"dateTime": "2030-01-07T10:00:00Z"}, "end": {"dateTime": "2030-01-07T11:00:00Z"}}
WEEKLY = {"summary": "Standup", "extendedProperties": PRIVATE, "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=3"],
          "start": {"dateTime": "2030-01-07T09:00:00", "timeZone": "Europe/London"},
          "end": {"dateTime": "2030-01-07T09:30:00", "timeZone": "Europe/London"}}


def error_of(e: HttpError) -> dict:
    return json.loads(e.content)["error"]


def sync_token(svc, **kw) -> str:
    r = svc.events().list(calendarId="primary", **kw).execute()
    assert "nextPageToken" not in r
    return r["nextSyncToken"]


def test_deleted_event_in_incremental_list_carries_only_guaranteed_fields(svc):
    ev = svc.events().insert(calendarId="primary", body=T).execute()
    token = sync_token(svc)
    svc.events().delete(calendarId="primary", eventId=ev["id"]).execute()
    items = svc.events().list(calendarId="primary", syncToken=token).execute()["items"]
    assert len(items) == 1
    assert set(items[0]) == {"kind", "etag", "id", "status"}
    assert items[0]["id"] == ev["id"] and items[0]["status"] == "cancelled"


def test_deleted_event_in_show_deleted_list_carries_only_guaranteed_fields(svc):
    ev = svc.events().insert(calendarId="primary", body=T).execute()
    svc.events().delete(calendarId="primary", eventId=ev["id"]).execute()
    items = svc.events().list(calendarId="primary", showDeleted=True).execute()["items"]
    assert [set(i) for i in items] == [{"kind", "etag", "id", "status"}]
    assert svc.events().list(calendarId="primary").execute()["items"] == []


def test_cancelled_instance_keeps_its_series_and_original_start_only(svc):
    series = svc.events().insert(calendarId="primary", body=WEEKLY).execute()
    instances = svc.events().instances(calendarId="primary", eventId=series["id"]).execute()["items"]
    token = sync_token(svc, singleEvents=True)
    svc.events().delete(calendarId="primary", eventId=instances[1]["id"]).execute()
    changed = svc.events().list(calendarId="primary", syncToken=token, singleEvents=True).execute()["items"]
    cancelled = [i for i in changed if i["status"] == "cancelled"]
    assert len(cancelled) == 1
    assert set(cancelled[0]) == {"kind", "etag", "id", "status", "recurringEventId", "originalStartTime"}
    assert cancelled[0]["recurringEventId"] == series["id"]
    assert cancelled[0]["originalStartTime"] == instances[1]["originalStartTime"]
    # without showDeleted or singleEvents the cancelled exception still shows, as bare
    listed = svc.events().list(calendarId="primary").execute()["items"]
    exception = [i for i in listed if i["id"] == instances[1]["id"]]
    assert exception and "summary" not in exception[0] and "extendedProperties" not in exception[0]


def test_get_of_a_deleted_event_still_returns_it_in_full(svc):
    ev = svc.events().insert(calendarId="primary", body=T).execute()
    svc.events().delete(calendarId="primary", eventId=ev["id"]).execute()
    got = svc.events().get(calendarId="primary", eventId=ev["id"]).execute()
    assert got["status"] == "cancelled" and got["summary"] == "Dentist"
    assert got["extendedProperties"] == PRIVATE


def watch(svc, address, cid="chan-strict-1"):
    return svc.events().watch(calendarId="primary", body={"id": cid, "type": "web_hook",
                                                          "address": address}).execute()


def test_watch_refuses_plain_http_without_the_development_flag(emu, svc, receiver):
    emu.allow_http_webhooks(False)  # the session emulator runs with the flag; Google's default is without
    with pytest.raises(HttpError) as ei:
        watch(svc, receiver.url)
    error = error_of(ei.value)
    assert ei.value.resp.status == 400 and error["code"] == 400
    assert error["errors"][0] == {"domain": "global", "reason": "push.webhookUrlNotHttps",
                                  "message": "WebHook callback must be HTTPS: " + receiver.url}
    # HTTPS is accepted (nothing listens on port 1: the delivery simply fails)
    assert watch(svc, "https://127.0.0.1:1/hook", cid="chan-strict-2")["kind"] == "api#channel"


def test_development_flag_allows_loopback_http_only(emu, svc, receiver):
    emu.allow_http_webhooks(True)
    assert watch(svc, receiver.url)["id"] == "chan-strict-1"
    assert receiver.wait_for(1)[0]["headers"]["X-Goog-Resource-State"] == "sync"
    with pytest.raises(HttpError) as ei:
        watch(svc, "http://example.com/hook", cid="chan-strict-2")
    assert error_of(ei.value)["errors"][0]["reason"] == "push.webhookUrlNotHttps"


def test_reset_restores_the_start_flag(emu, svc, receiver):
    emu.allow_http_webhooks(False)
    emu.reset()
    assert emu.limits()["allow_http_webhooks"] is True  # this suite's emulator starts with the flag


def test_channel_id_rules(svc):
    with pytest.raises(HttpError) as ei:
        watch(svc, "https://127.0.0.1:1/hook", cid="c" * 65)
    assert ei.value.resp.status == 400
    watch(svc, "https://127.0.0.1:1/hook", cid="c" * 64)
    with pytest.raises(HttpError) as ei:
        watch(svc, "https://127.0.0.1:1/hook", cid="c" * 64)
    assert ei.value.resp.status == 400 and error_of(ei.value)["errors"][0]["reason"] == "channelIdNotUnique"
