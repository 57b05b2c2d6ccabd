"""Google's limits, on by default: per-user and per-project quotas over a sliding window (batch members
counted one by one), and the Calendar use limits that make a calendar read-only for hours.

Driven only by google-api-python-client; the admin controls (requests) lower the numbers so a test
reaches them quickly, and every test starts from the emulator's reset.
"""
import json
import time

import pytest
import requests
from googleapiclient.errors import HttpError

from .conftest import ALEX, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, SAM

DAY = {"start": {"date": "2030-01-01"}, "end": {"date": "2030-01-02"}}


def error_of(e: HttpError) -> dict:
    return json.loads(e.content)["error"]


def refused(call) -> HttpError:
    with pytest.raises(HttpError) as ei:
        call.execute()
    return ei.value


def test_defaults_are_googles(emu):
    limits = emu.limits()
    assert limits["per_user_per_minute"] == 600 and limits["per_project_per_minute"] == 10_000
    assert limits["quota_window_seconds"] == 60
    assert limits["event_creations"] == 100_000 and limits["calendar_creations"] == 60
    assert limits["read_only_seconds"] >= 3600


def test_the_601st_call_in_a_minute_is_refused_even_inside_a_batch(emu, svc, new_batch):
    results = {}
    batch = new_batch(lambda rid, resp, exc: results.__setitem__(rid, exc))
    for i in range(601):
        batch.add(svc.events().list(calendarId="primary", maxResults=1), request_id=str(i))
    batch.execute()
    assert all(results[str(i)] is None for i in range(600))
    assert results["600"].resp.status in (403, 429)
    assert error_of(results["600"])["errors"][0]["domain"] == "usageLimits"


def test_per_user_quota_answers_user_rate_limit_exceeded(emu, svc, make_service):
    emu.set_quota(per_user_per_minute=3, share_429=0)
    for _ in range(3):
        svc.events().list(calendarId="primary").execute()
    e = refused(svc.events().list(calendarId="primary"))
    error = error_of(e)
    assert e.resp.status == 403 and error["code"] == 403 and error["message"] == "Rate Limit Exceeded"
    assert error["errors"][0] == {"domain": "usageLimits", "reason": "userRateLimitExceeded",
                                  "message": "Rate Limit Exceeded"}
    make_service(email=SAM).events().list(calendarId="primary").execute()  # per user
    assert emu.counters()["rate_limited"] == 1


def test_per_project_quota_answers_rate_limit_exceeded(emu, svc, make_service):
    emu.set_quota(per_project_per_minute=4, share_429=0)
    sam = make_service(email=SAM)
    for service in (svc, svc, sam, sam):
        service.events().list(calendarId="primary").execute()
    e = refused(sam.events().list(calendarId="primary"))
    assert e.resp.status == 403 and error_of(e)["errors"][0]["reason"] == "rateLimitExceeded"


def test_a_share_of_refusals_is_429(emu, svc):
    emu.set_quota(per_user_per_minute=1, share_429=0.5)
    svc.events().list(calendarId="primary").execute()
    statuses = [refused(svc.events().list(calendarId="primary")).resp.status for _ in range(4)]
    assert statuses == [403, 429, 403, 429]
    e = refused(svc.events().list(calendarId="primary"))
    assert error_of(e)["errors"][0] == {"domain": "usageLimits", "reason": "userRateLimitExceeded",
                                        "message": "Rate Limit Exceeded"}


def test_batch_members_over_quota_get_their_own_answers(emu, svc, new_batch):
    emu.set_quota(per_user_per_minute=3, share_429=0)
    results = {}
    batch = new_batch(lambda rid, resp, exc: results.__setitem__(rid, (resp, exc)))
    for i in range(5):
        batch.add(svc.events().insert(calendarId="primary", body=dict(DAY, summary=f"b{i}")), request_id=str(i))
    batch.execute()  # the batch itself is answered 200
    assert [results[str(i)][1] is None for i in range(5)] == [True, True, True, False, False]
    assert all(error_of(results[str(i)][1])["errors"][0]["reason"] == "userRateLimitExceeded" for i in (3, 4))
    assert len(emu.events(ALEX)) == 3


def test_the_window_slides(emu, svc):
    emu.set_quota(per_user_per_minute=2, window_seconds=1, share_429=0)
    svc.events().list(calendarId="primary").execute()
    first = time.monotonic()
    time.sleep(0.6)
    svc.events().list(calendarId="primary").execute()
    refused(svc.events().list(calendarId="primary"))  # refused calls do not use up quota
    time.sleep(max(0.0, first + 1.15 - time.monotonic()))
    svc.events().list(calendarId="primary").execute()  # the first call has left the window...
    refused(svc.events().list(calendarId="primary"))  # ...the second has not (a fixed window would allow this)


def test_client_backs_off_and_gets_through(emu, svc):
    emu.set_quota(per_user_per_minute=1, window_seconds=0.3, share_429=0)
    svc.events().list(calendarId="primary").execute()
    r = svc.events().list(calendarId="primary")
    r._sleep = lambda s: time.sleep(0.35)
    assert r.execute(num_retries=2)["items"] == []


def test_event_creations_over_the_use_limit_make_the_calendar_read_only(emu, svc, make_service):
    emu.set_use_limits(event_creations=3, read_only_seconds=1.5)
    created = [svc.events().insert(calendarId="primary", body=dict(DAY, summary=f"e{i}")).execute()
               for i in range(3)]
    r = svc.events().insert(calendarId="primary", body=DAY)
    r._sleep = lambda s: None
    with pytest.raises(HttpError) as ei:
        r.execute(num_retries=3)  # google-api-python-client does not retry quotaExceeded
    e = ei.value
    assert e.resp.status == 403 and error_of(e)["message"] == "Calendar usage limits exceeded."
    assert error_of(e)["errors"][0] == {"domain": "usageLimits", "reason": "quotaExceeded",
                                        "message": "Calendar usage limits exceeded."}
    assert emu.counters()["methods"]["calendar.events.insert"] == 4
    # every write is refused while read-only, reads still work, other users are not affected
    e = refused(svc.events().patch(calendarId="primary", eventId=created[0]["id"], body={"summary": "x"}))
    assert error_of(e)["errors"][0]["reason"] == "quotaExceeded"
    refused(svc.events().delete(calendarId="primary", eventId=created[0]["id"]))
    assert len(svc.events().list(calendarId="primary").execute()["items"]) == 3
    make_service(email=SAM).events().insert(calendarId="primary", body=DAY).execute()
    assert ALEX in emu.limits()["read_only_seconds_left"]
    time.sleep(1.6)
    svc.events().patch(calendarId="primary", eventId=created[0]["id"], body={"summary": "x"}).execute()


def test_calendar_creations_over_the_use_limit_are_refused(emu, svc):
    emu.set_use_limits(calendar_creations=2)
    for i in range(2):
        svc.calendars().insert(body={"summary": f"Portal {i}"}).execute()
    e = refused(svc.calendars().insert(body={"summary": "one too many"}))
    assert e.resp.status == 403 and error_of(e)["errors"][0]["reason"] == "quotaExceeded"
    assert error_of(refused(svc.events().insert(calendarId="primary", body=DAY)))["errors"][0]["reason"] \
        == "quotaExceeded"


def test_reset_clears_quota_windows_and_use_limits(emu, svc, make_service):
    emu.set_quota(per_user_per_minute=1, share_429=0)
    emu.set_use_limits(event_creations=1, read_only_seconds=3600)
    svc.events().insert(calendarId="primary", body=DAY).execute()
    refused(svc.events().insert(calendarId="primary", body=DAY))
    emu.set_quota(per_user_per_minute=100)
    refused(svc.events().insert(calendarId="primary", body=DAY))  # still read-only
    emu.reset()
    assert emu.limits()["per_user_per_minute"] == 600 and emu.limits()["read_only_seconds_left"] == {}
    emu.add_account(ALEX, "Alex Client")
    emu.register_client(CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI])
    make_service().events().insert(calendarId="primary", body=DAY).execute()


def test_admin_controls_refuse_bad_settings(emu):
    r = requests.post(emu.base_url + "/_emulator/quota", json={"per_user_per_minute": -1}, timeout=5)
    assert r.status_code == 400
    r = requests.post(emu.base_url + "/_emulator/use-limits", json={"per_user_per_minute": 5}, timeout=5)
    assert r.status_code == 400
