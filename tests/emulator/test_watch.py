"""events.watch push notifications to a local receiver, channels.stop, expiry and retries."""
import json
import time

import pytest
from googleapiclient.errors import HttpError

T = {"start": {"dateTime": "2030-01-07T10:00:00Z"}, "end": {"dateTime": "2030-01-07T11:00:00Z"}}


def watch(svc, receiver, cid="chan-1", **extra):
    body = {"id": cid, "type": "web_hook", "address": receiver.url, "token": "tok=abc"}
    body.update(extra)
    return svc.events().watch(calendarId="primary", body=body).execute()


def test_sync_then_exists_with_headers(svc, receiver):
    ch = watch(svc, receiver)
    assert ch["kind"] == "api#channel" and ch["id"] == "chan-1" and ch["resourceId"]
    assert ch["resourceUri"].startswith("https://www.googleapis.com/calendar/v3/calendars/")
    assert int(ch["expiration"]) > time.time() * 1000 and ch["token"] == "tok=abc"
    hits = receiver.wait_for(1)
    h = hits[0]["headers"]
    assert h["X-Goog-Resource-State"] == "sync" and h["X-Goog-Message-Number"] == "1"
    svc.events().insert(calendarId="primary", body=T).execute()
    hits = receiver.wait_for(2)
    assert len(hits) == 2
    h = hits[1]["headers"]
    assert h["X-Goog-Resource-State"] == "exists" and h["X-Goog-Channel-ID"] == "chan-1"
    assert int(h["X-Goog-Message-Number"]) > 1 and h["X-Goog-Resource-ID"] == ch["resourceId"]
    assert h["X-Goog-Channel-Token"] == "tok=abc" and h["X-Goog-Channel-Expiration"].endswith("GMT")
    assert h["X-Goog-Resource-URI"] == ch["resourceUri"] and h["User-Agent"].startswith("APIs-Google")
    assert hits[1]["body"] == b""


def test_channel_rules_and_stop(svc, receiver):
    ch = watch(svc, receiver)
    with pytest.raises(HttpError) as ei:
        watch(svc, receiver)
    assert json.loads(ei.value.content)["error"]["errors"][0]["reason"] == "channelIdNotUnique"
    with pytest.raises(HttpError) as ei:
        watch(svc, receiver, cid="chan-2", address="http://example.com/hook")
    assert ei.value.resp.status == 400
    receiver.wait_for(1)
    svc.channels().stop(body={"id": ch["id"], "resourceId": ch["resourceId"]}).execute()
    svc.events().insert(calendarId="primary", body=T).execute()
    time.sleep(0.4)
    assert len(receiver.hits) == 1


def test_expired_channel_gets_nothing(svc, receiver):
    watch(svc, receiver, expiration=str(int(time.time() * 1000) + 600))
    receiver.wait_for(1)
    time.sleep(0.8)
    svc.events().insert(calendarId="primary", body=T).execute()
    time.sleep(0.4)
    assert len(receiver.hits) == 1


def test_retries_on_5xx(svc, receiver):
    watch(svc, receiver)
    receiver.wait_for(1)
    receiver.statuses.extend([503])
    svc.events().insert(calendarId="primary", body=T).execute()
    hits = receiver.wait_for(3)
    assert [h["headers"]["X-Goog-Resource-State"] for h in hits] == ["sync", "exists", "exists"]
    assert hits[1]["headers"]["X-Goog-Message-Number"] == hits[2]["headers"]["X-Goog-Message-Number"]
